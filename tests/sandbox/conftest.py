"""Run a Python script in the real sandbox, with limits small enough to keep tests fast."""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from textwrap import dedent

import pytest

from havenkit.sandbox import Limits, SandboxResult, SandboxSpec, command_for, run_sandboxed

TEST_LIMITS = Limits(
    wall_seconds=8,
    cpu_seconds=8,
    memory_bytes=256 * 1024**2,
    max_processes=32,
    output_bytes=5 * 1024**2,
)


@dataclass
class Run:
    result: SandboxResult
    log: str
    outputs: Path


@pytest.fixture
def run_script(tmp_path: Path) -> Callable[..., Run]:
    """Run ``source`` as /code/job.py; optional ``extract`` folder, ``limits`` and callbacks."""

    def run(
        source: str,
        *,
        extract: Path | None = None,
        limits: Limits = TEST_LIMITS,
        **callbacks,
    ) -> Run:
        code, outputs = tmp_path / "code", tmp_path / "outputs"
        code.mkdir()
        outputs.mkdir()
        (code / "job.py").write_text(dedent(source))
        spec = SandboxSpec(code, outputs, extract, command_for("job.py"), limits)
        log = tmp_path / "log.txt"
        result = run_sandboxed(spec, log, **callbacks)
        return Run(result, log.read_text(errors="replace"), outputs)

    return run
