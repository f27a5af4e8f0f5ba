"""What a Slurm batch job runs on the compute node: the local sandbox runner, then its result.

``python -m havenkit.sandbox.node SPEC_JSON LOG RESULT_JSON``. Slurm's ``scancel`` sends
SIGTERM, which stops the sandbox as a researcher's cancel does locally, so the job's limits,
cgroups and log are handled by exactly the code that runs jobs on a single machine.
"""

import json
import signal
import sys
from dataclasses import asdict, replace
from pathlib import Path

from havenkit.sandbox.runner import run_sandboxed
from havenkit.sandbox.slurm import spec_from_json


def main(spec_file: str, log_file: str, result_file: str) -> int:
    cancel_requested = False

    def request_cancel(_signal: int, _frame: object) -> None:
        nonlocal cancel_requested
        cancel_requested = True

    signal.signal(signal.SIGTERM, request_cancel)
    spec = spec_from_json(Path(spec_file).read_text())
    result = run_sandboxed(spec, Path(log_file), should_cancel=lambda: cancel_requested)
    # A plain scancel signals every process of the job, so the sandbox may end before the
    # runner sees the request; it was still a cancellation, not the code failing.
    result = replace(result, cancelled=result.cancelled or cancel_requested)
    # Written to a temporary name and renamed, so the worker never reads half a result.
    partial = Path(result_file).with_suffix(".partial")
    partial.write_text(json.dumps(asdict(result)))
    partial.rename(result_file)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
