"""``havenkit people``: tasks about safe people from the command line.

``havenkit people create-admin USERNAME --name "Ada Fraser" --email ada@example.org`` creates
the first administrator of a new haven and prints their one-time password; every later
account is created on the People page. ``havenkit people notify-expiring`` is the daily
accreditation check (run it from cron): it e-mails each person whose accreditation expires
within 30 days, and the PIs of their projects, and writes ``accreditation.expired`` to the audit
log for each record that has run out. Access itself needs no command: it is checked against
today's date on every request.
"""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from havenkit.core.roles import Role
from havenkit.people import accounts, accreditation
from havenkit.projects import services as projects


class Command(BaseCommand):
    help = "Tasks about safe people."

    def add_arguments(self, parser: ArgumentParser) -> None:
        subcommands = parser.add_subparsers(dest="subcommand", required=True)
        subcommands.add_parser(
            "notify-expiring",
            help="E-mail people and their PIs 30 days before accreditation expires; audit expiry.",
        )
        create_admin = subcommands.add_parser(
            "create-admin",
            help="Create an administrator account and print its one-time password.",
        )
        create_admin.add_argument("username")
        create_admin.add_argument("--name", required=True, help="the person's full name")
        create_admin.add_argument("--email", required=True, help="the person's email address")

    def handle(self, *args: Any, subcommand: str, **options: Any) -> None:
        if subcommand == "create-admin":
            self._create_admin(options["username"], options["name"], options["email"])
            return
        run = accreditation.run_daily_check(pis_of=projects.pis_of_member)
        self.stdout.write(
            f"Expiry notices sent: {run.notices_sent}. Expiries recorded: {run.expiries_recorded}."
        )

    def _create_admin(self, username: str, name: str, email: str) -> None:
        """Refuses an existing username or email, so running it twice changes nothing."""
        try:
            person, password = accounts.create_account(
                username=username,
                full_name=name,
                email=email,
                roles=[Role.ADMINISTRATOR],
                created_by=None,
            )
        except accounts.AccountError as refusal:
            raise CommandError(f"{refusal} Nothing was changed.") from None
        self.stdout.write(
            f"Created administrator {person.username}.\n"
            f"One-time password: {password}\n"
            "Give it to them privately. At first sign-in they choose their own password and set "
            "up an authenticator app; the one-time password then stops working."
        )
