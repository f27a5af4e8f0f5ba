"""``havenkit people notify-expiring``: the daily accreditation check (run it from cron).

It e-mails each person whose accreditation expires within 30 days, and the PIs of their
projects, and writes ``accreditation.expired`` to the audit log for each record that has run
out. Access itself needs no command: it is checked against today's date on every request.
"""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from havenkit.people import accreditation
from havenkit.projects import services as projects


class Command(BaseCommand):
    help = "Tasks about safe people."

    def add_arguments(self, parser: ArgumentParser) -> None:
        subcommands = parser.add_subparsers(dest="subcommand", required=True)
        subcommands.add_parser(
            "notify-expiring",
            help="E-mail people and their PIs 30 days before accreditation expires; audit expiry.",
        )

    def handle(self, *args: Any, subcommand: str, **options: Any) -> None:
        run = accreditation.run_daily_check(pis_of=projects.pis_of_member)
        self.stdout.write(
            f"Expiry notices sent: {run.notices_sent}. Expiries recorded: {run.expiries_recorded}."
        )
