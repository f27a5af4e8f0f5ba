"""``havenkit worker``: run queued jobs in the sandbox.

Examples::

    havenkit worker                    # run jobs as they are queued, until Ctrl-C or SIGTERM
    havenkit worker --once             # run every queued job, then exit (cron, tests)
    havenkit worker --concurrency 4    # up to four jobs at once (on Slurm: submitted at once)
"""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from havenkit.workspaces.worker import Worker, stop_on_sigterm


class Command(BaseCommand):
    help = "Run queued jobs in the bubblewrap sandbox."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--once", action="store_true", help="Run every queued job, then exit.")
        parser.add_argument(
            "--concurrency",
            type=int,
            default=None,
            help=(
                "Jobs to run at once (default: HAVENKIT_WORKER_CONCURRENCY), or with "
                "HAVENKIT_EXECUTOR=slurm to keep submitted (default: HAVENKIT_SLURM_MAX_SUBMITTED)."
            ),
        )
        parser.add_argument(
            "--poll-interval",
            type=float,
            default=1.0,
            help="Seconds between looks at the queue and at cancel requests (default 1).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["once"]:
            stop_on_sigterm()
        worker = Worker(poll_interval=options["poll_interval"], concurrency=options["concurrency"])
        self.stdout.write(f"Worker {worker.name} running up to {worker.concurrency} jobs at once.")
        finished = worker.run(once=options["once"])
        self.stdout.write(f"Worker {worker.name} stopped after {finished} job(s).")
