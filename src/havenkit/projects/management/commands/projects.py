"""``havenkit projects sweep``: the daily end-of-project run (run it from cron).

It records each project whose approval has expired (access already stopped on the day after
its end date) and deletes the workspace files of every project closed longer ago than
``HAVENKIT_RETENTION_DAYS``, leaving a deletion record in the audit log.
"""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from havenkit.projects import closure


class Command(BaseCommand):
    help = "Tasks about safe projects."

    def add_arguments(self, parser: ArgumentParser) -> None:
        subcommands = parser.add_subparsers(dest="subcommand", required=True)
        subcommands.add_parser(
            "sweep",
            help="Record expired approvals; delete workspaces of projects closed past retention.",
        )

    def handle(self, *args: Any, subcommand: str, **options: Any) -> None:
        run = closure.sweep()
        self.stdout.write(
            f"Approvals expired: {len(run.expired)} {' '.join(run.expired)}".rstrip()
            + f". Workspaces deleted: {len(run.deleted)} {' '.join(run.deleted)}".rstrip()
            + "."
        )
