"""The ``havenkit`` command: Django's management commands under one name.

``havenkit audit verify``, ``havenkit worker``, ``havenkit serve``, ``havenkit demo ...`` and
Django's own (``havenkit migrate``) all run through here with havenkit's settings.
"""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "havenkit.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["havenkit", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
