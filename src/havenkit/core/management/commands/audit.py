"""``havenkit audit verify``: check the audit log's hash chain from the first event to the last."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from havenkit.core import audit


class Command(BaseCommand):
    help = "Work with the tamper-evident audit log."

    def add_arguments(self, parser: ArgumentParser) -> None:
        subcommands = parser.add_subparsers(dest="subcommand", required=True)
        subcommands.add_parser(
            "verify", help="Exit 0 when the hash chain is intact; name the first broken event."
        )

    def handle(self, *args: Any, subcommand: str, **options: Any) -> None:
        checked, broken = audit.verify_chain()
        if broken is not None:
            raise CommandError(
                f"Audit log broken at event #{broken.event_id}: {broken.reason}. "
                f"{checked} events before it are intact."
            )
        self.stdout.write(f"Audit log intact: {checked} events, hash chain verified.")
