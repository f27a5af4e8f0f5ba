"""``havenkit serve``: the portal under gunicorn, with a job worker beside it.

The database is brought up to date first (``--no-migrate`` leaves that to the operator), and
static files are collected so whitenoise serves the NHS.UK frontend from this instance.
Stopping the command (Ctrl-C or SIGTERM) stops both processes.
"""

import signal
import subprocess
import sys
import time
from argparse import ArgumentParser
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve the portal with gunicorn and run a job worker beside it."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--bind", default="127.0.0.1:8000", help="address:port to listen on")
        parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
        parser.add_argument(
            "--no-worker", action="store_true", help="serve the portal without a job worker"
        )
        parser.add_argument(
            "--no-migrate",
            action="store_true",
            help="do not apply pending database migrations before serving",
        )

    def handle(
        self,
        *args: Any,
        bind: str,
        workers: int,
        no_worker: bool,
        no_migrate: bool,
        **options: Any,
    ) -> None:
        if not no_migrate:
            call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        children = []
        if not no_worker:
            children.append(subprocess.Popen([sys.executable, "-m", "havenkit.cli", "worker"]))
        children.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "havenkit.wsgi",
                    "--bind",
                    bind,
                    "--workers",
                    str(workers),
                    "--access-logfile",
                    "-",
                ]
            )
        )
        self.stdout.write(f"Portal on http://{bind}/ (Ctrl-C to stop)")

        def stop(signum: int, frame: Any) -> None:
            for child in children:
                child.terminate()

        signal.signal(signal.SIGTERM, stop)
        try:
            while all(child.poll() is None for child in children):
                time.sleep(1)
        except KeyboardInterrupt:
            pass
        finally:
            for child in children:
                if child.poll() is None:
                    child.terminate()
            for child in children:
                child.wait(timeout=30)
