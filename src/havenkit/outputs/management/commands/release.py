"""``havenkit release verify ZIP``: check a downloaded release package.

Checks the zip against its own manifest (every file present, with the listed size and SHA-256,
and described alike in ro-crate-metadata.json) and against this haven's record (the request
exists and was released, the same files, two approvals of each, the same reviews). Exit status
0 when all holds; otherwise 1, with the first problem named on stderr.
"""

import sys
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from havenkit.outputs.packages import PackageProblem, verify_package


class Command(BaseCommand):
    help = "Release packages: check a downloaded one against its manifest and this haven."

    def add_arguments(self, parser: ArgumentParser) -> None:
        subcommands = parser.add_subparsers(dest="subcommand", required=True)
        verify = subcommands.add_parser(
            "verify", help="Check a release package: exit 0 when it is intact and recorded."
        )
        verify.add_argument("zip", metavar="ZIP", help="the downloaded package")

    def handle(self, *args: Any, subcommand: str, **options: Any) -> None:
        try:
            release_request = verify_package(options["zip"])
        except PackageProblem as problem:
            self.stderr.write(f"NOT VERIFIED {options['zip']}: {problem}")
            sys.exit(1)
        self.stdout.write(
            f"VERIFIED {options['zip']}: release request {release_request.pk} of "
            f"{release_request.project.reference}, {release_request.files.count()} files, "
            "each matching its manifest and the haven's record of two approvals."
        )
