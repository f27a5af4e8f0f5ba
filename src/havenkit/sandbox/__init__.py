"""Run untrusted analysis code with no network, read-only data and hard limits (bubblewrap).

A pure library: it takes paths and limits and returns what happened, knowing nothing of
Django, jobs or projects. ``havenkit.workspaces`` wraps it.
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
    "bubblewrap_command",
    "command_for",
    "default_system_paths",
    "folder_size",
    "run_sandboxed",
]
