"""``havenkit data sweep``: mark failed the uploads a killed process left half-done, and delete
the folders a killed researcher's import was being received into (each deletion is audited).

Examples::

    havenkit data sweep                  # uploads receiving or validating for over 6 hours
    havenkit data sweep --older-than 30  # ... for over 30 minutes
"""

from argparse import ArgumentParser
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from havenkit.data import airlock


class Command(BaseCommand):
    help = "Look after the data the haven holds."

    def add_arguments(self, parser: ArgumentParser) -> None:
        subcommands = parser.add_subparsers(dest="subcommand", required=True)
        sweep = subcommands.add_parser(
            "sweep",
            help="Mark failed, and delete the files of, uploads left receiving or validating; "
            "delete folders of imports left half-received.",
        )
        sweep.add_argument(
            "--older-than",
            type=int,
            default=int(airlock.STALE_AFTER.total_seconds() // 60),
            metavar="MINUTES",
            help="How long an upload may stay receiving or validating (default: %(default)s). "
            "Longer than the slowest real upload, so a live one is never swept.",
        )

    def handle(self, *args: Any, subcommand: str, older_than: int, **options: Any) -> None:
        if older_than < 1:
            raise CommandError("--older-than must be at least 1 minute.")
        swept = airlock.sweep_stale_uploads(timedelta(minutes=older_than))
        for upload in swept:
            self.stdout.write(f"Upload {upload.pk} ({upload.original_name}): marked failed.")
        self.stdout.write(f"{len(swept)} stale upload(s) swept.")
