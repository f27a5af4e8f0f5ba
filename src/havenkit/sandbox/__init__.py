"""Run untrusted analysis code with no network, read-only data and hard limits (bubblewrap).

A pure library: it takes paths and limits and returns what happened, knowing nothing of
Django, jobs or projects. ``havenkit.workspaces`` wraps it. Jobs run on this machine
(:func:`run_sandboxed`) or on a Slurm cluster (:func:`run_on_slurm`) through the same runner.
"""

from havenkit.sandbox.command import (
    CODE_MOUNT,
    DATA_MOUNT,
    OUTPUTS_MOUNT,
    Limits,
    SandboxSpec,
    bubblewrap_command,
    default_system_paths,
)
from havenkit.sandbox.languages import LANGUAGES, LanguageUnavailable, command_for
from havenkit.sandbox.runner import (
    LimitHit,
    SandboxResult,
    SandboxUnavailable,
    folder_size,
    run_sandboxed,
)
from havenkit.sandbox.slurm import SlurmJobLost, SlurmJobs, SlurmUnavailable, run_on_slurm

__all__ = [
    "CODE_MOUNT",
    "DATA_MOUNT",
    "LANGUAGES",
    "OUTPUTS_MOUNT",
    "LanguageUnavailable",
    "LimitHit",
    "Limits",
    "SandboxResult",
    "SandboxSpec",
    "SandboxUnavailable",
    "SlurmJobLost",
    "SlurmJobs",
    "SlurmUnavailable",
    "bubblewrap_command",
    "command_for",
    "default_system_paths",
    "folder_size",
    "run_on_slurm",
    "run_sandboxed",
]
