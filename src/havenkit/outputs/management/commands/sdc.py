"""``havenkit sdc check FILE...``: the output-checking rules on files, from the command line.

Exit status 0 when every file passes, 1 when any fails, 2 when a person must review one; the
report goes to stdout as text or, with ``--json``, as JSON. The rules come from ``--config``,
else from ``HAVENKIT_HOME/haven.toml`` when the haven has one, else the defaults. All the work
is :func:`havenkit.sdc.files.check_files`, which the portal and jobs call too.
"""

import sys
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from havenkit.outputs.checks import haven_config
from havenkit.sdc import ConfigError, SdcConfig
from havenkit.sdc import files as file_checks


def _config(path: str | None) -> SdcConfig:
    try:
        return haven_config(path)
    except ConfigError as error:
        raise CommandError(str(error)) from None


class Command(BaseCommand):
    help = "Statistical disclosure control checks on output files."

    def add_arguments(self, parser: ArgumentParser) -> None:
        subcommands = parser.add_subparsers(dest="subcommand", required=True)
        check = subcommands.add_parser(
            "check",
            help="Check files: exit 0 pass, 1 fail, 2 review by an output checker.",
        )
        check.add_argument("files", nargs="+", metavar="FILE", help="files to check")
        check.add_argument("--json", action="store_true", help="report as JSON")
        check.add_argument("--config", metavar="FILE", help="haven configuration (.toml/.yaml)")
        check.add_argument(
            "--identifier-column",
            action="append",
            default=[],
            metavar="NAME",
            help="a column name that identifies people (the project's pseudonym column); "
            "repeat for several",
        )

    def handle(self, *args: Any, subcommand: str, **options: Any) -> None:
        config = _config(options["config"])
        reports = file_checks.check_files(options["files"], config, options["identifier_column"])
        render = file_checks.render_json if options["json"] else file_checks.render_text
        self.stdout.write(render(reports))
        self.stdout.flush()
        sys.exit(file_checks.exit_status(reports))
