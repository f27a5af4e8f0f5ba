"""``havenkit release``: check a downloaded release package, here or away from the haven.

``havenkit release verify ZIP`` checks the zip against its own manifest (every file present,
with the listed size and SHA-256, and described alike in ro-crate-metadata.json) and against this
haven's database (the request exists and was released, the same files, two approvals of each,
the same reviews).

``havenkit release verify ZIP --record release-record.json [--public-key haven.pem]`` makes the
second check against the haven's signed release record instead, with no database: anyone with
the haven's public key (``havenkit release public-key`` prints it) can run it.

Exit status 0 when all holds; otherwise 1, with the first problem named on stderr.
"""

import sys
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from havenkit.outputs import signing
from havenkit.outputs.packages import PackageProblem, verify_package, verify_package_offline


class Command(BaseCommand):
    help = "Release packages: check a downloaded one; print the haven's public key."

    def add_arguments(self, parser: ArgumentParser) -> None:
        subcommands = parser.add_subparsers(dest="subcommand", required=True)
        verify = subcommands.add_parser(
            "verify", help="Check a release package: exit 0 when it is intact and recorded."
        )
        verify.add_argument("zip", metavar="ZIP", help="the downloaded package")
        verify.add_argument(
            "--record",
            metavar="FILE",
            help="the haven's signed release-record.json: check against it, with no database",
        )
        verify.add_argument(
            "--public-key",
            metavar="FILE",
            help="the haven's public key (PEM) that signed the record; default: this haven's",
        )
        subcommands.add_parser(
            "public-key", help="Print this haven's public key, which checks its release records."
        )

    def handle(self, *args: Any, subcommand: str, **options: Any) -> None:
        if subcommand == "public-key":
            self.stdout.write(signing.public_key_pem(signing.haven_public_key()), ending="")
            return
        if options["public_key"] and not options["record"]:
            self.stderr.write("--public-key checks a release record: give --record FILE too.")
            sys.exit(1)
        try:
            if options["record"]:
                record = verify_package_offline(
                    options["zip"], options["record"], options["public_key"]
                )
                summary = (
                    f"release request {record['release_request']} of {record['project']} from "
                    f"{record['haven']}, released {record['released_at']}, "
                    f"{len(record['files'])} files, each matching its manifest and the haven's "
                    "signed record of two approvals."
                )
            else:
                release_request = verify_package(options["zip"])
                summary = (
                    f"release request {release_request.pk} of "
                    f"{release_request.project.reference}, {release_request.files.count()} "
                    "files, each matching its manifest and the haven's record of two approvals."
                )
        except PackageProblem as problem:
            self.stderr.write(f"NOT VERIFIED {options['zip']}: {problem}")
            sys.exit(1)
        self.stdout.write(f"VERIFIED {options['zip']}: {summary}")
