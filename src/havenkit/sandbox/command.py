"""What a sandboxed job may see and use, and the bubblewrap command line that enforces it.

Every security-relevant flag is set in :func:`bubblewrap_command`, each with the reason it is
there, so a reviewer reads the whole sandbox in one place.
"""

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import havenkit

# Where the job finds its inputs and writes its results, inside the sandbox.
CODE_MOUNT = "/code"
DATA_MOUNT = "/data"
OUTPUTS_MOUNT = "/outputs"
# The sandbox's own tmpfs, private to the job and gone when it ends (not the host's /tmp).
SCRATCH_MOUNT = "/tmp"  # noqa: S108

# The uid and gid of "nobody": the job never runs as root, even though havenkit does.
NOBODY = "65534"


@dataclass(frozen=True)
class Limits:
    """How much of the machine one job may use before it is stopped."""

    wall_seconds: float = 3600
    cpu_seconds: int = 3600
    memory_bytes: int = 4 * 1024**3
    max_processes: int = 64
    output_bytes: int = 1024**3


def default_system_paths() -> tuple[Path, ...]:
    """The host paths a job needs read-only to run Python (and R): nothing more.

    The interpreter's own prefix and the virtual environment hold the analysis libraries;
    havenkit's ``src`` folder lets a job ``import havenkit.sdc``. The repository root and
    HAVENKIT_HOME are deliberately absent: they hold the database, keys and other projects' data.
    """
    havenkit_src = Path(havenkit.__file__).resolve().parent.parent
    paths = [
        Path("/usr"),
        Path("/lib"),
        Path("/lib64"),
        Path("/bin"),
        Path("/etc/ld.so.cache"),
        Path("/etc/ld.so.conf"),
        Path("/etc/ld.so.conf.d"),
        Path("/etc/localtime"),
        Path("/etc/alternatives"),
        Path("/etc/R"),
        Path(sys.base_prefix).resolve(),
        Path(sys.prefix),
        havenkit_src,
    ]
    return tuple(dict.fromkeys(paths))


@dataclass(frozen=True)
class SandboxSpec:
    """One job's folders, the command to run inside, and its limits."""

    code_dir: Path
    outputs_dir: Path
    extract_dir: Path | None
    command: tuple[str, ...]
    limits: Limits = field(default_factory=Limits)
    system_paths: tuple[Path, ...] = field(default_factory=default_system_paths)


def _system_binds(paths: tuple[Path, ...]) -> list[str]:
    """Mirror each host system path read-only, keeping symlinks (``/lib -> usr/lib``) as links."""
    argv: list[str] = []
    for path in paths:
        if path.is_symlink():
            argv += ["--symlink", os.readlink(path), str(path)]
        elif path.exists():
            argv += ["--ro-bind", str(path), str(path)]
    return argv


def _search_path() -> str:
    """The job's PATH: the environment's own ``python`` first, then the system's programs."""
    return ":".join([str(Path(sys.prefix) / "bin"), "/usr/local/bin", "/usr/bin", "/bin"])


def bubblewrap_command(spec: SandboxSpec) -> list[str]:
    """The full ``bwrap`` argv that runs ``spec.command`` with nothing but what the job needs."""
    argv = [
        "bwrap",
        # New namespaces for everything: the network namespace has no interfaces (not even a
        # working loopback), so no service of the host or the internet is reachable; new pid,
        # ipc, uts and cgroup namespaces hide the host's processes, shared memory and names.
        "--unshare-all",
        # Insist on a user namespace rather than "try", so the uid mapping below always holds.
        "--unshare-user",
        # And forbid the job from making a nested one, where it could pretend to be root.
        "--disable-userns",
        # If havenkit's worker dies, the job dies with it rather than running unwatched.
        "--die-with-parent",
        # A new session, so the job cannot reach the worker's terminal (TIOCSTI injection).
        "--new-session",
        # No capabilities at all, inside or outside the namespace.
        "--cap-drop",
        "ALL",
        # Run as nobody: unprivileged even though havenkit itself runs as root.
        "--uid",
        NOBODY,
        "--gid",
        NOBODY,
        "--hostname",
        "sandbox",
        # Start from an empty environment: none of havenkit's settings or secrets leak in.
        "--clearenv",
        "--setenv",
        "PATH",
        _search_path(),
        "--setenv",
        "HOME",
        SCRATCH_MOUNT,
        "--setenv",
        "LANG",
        "C.UTF-8",
        "--setenv",
        "PYTHONDONTWRITEBYTECODE",
        "1",
        "--setenv",
        "HAVENKIT_EXTRACT",
        DATA_MOUNT,
        "--setenv",
        "HAVENKIT_OUTPUTS",
        OUTPUTS_MOUNT,
        "--setenv",
        "MPLCONFIGDIR",
        f"{SCRATCH_MOUNT}/matplotlib",
    ]
    argv += [
        # A /proc for the new pid namespace only: the job sees its own few processes.
        "--proc",
        "/proc",
        # Read-only: havenkit runs bwrap as root, so the job's uid 65534 maps to the host's
        # uid 0, and the kernel lets that uid write host-wide settings in /proc/sys (such as
        # kernel.core_pattern) even without capabilities. A read-only /proc refuses them all.
        "--remount-ro",
        "/proc",
        # A minimal /dev (null, zero, random, tty...), never the host's devices.
        "--dev",
        "/dev",
        # Scratch space that disappears with the job (and counts against its memory limit).
        # Mounted before the system paths, so a virtualenv or checkout that lives under the
        # host's /tmp (as in CI) is bound on top of it rather than hidden by it.
        "--tmpfs",
        SCRATCH_MOUNT,
    ]
    # The interpreter, its libraries and havenkit's own source, read-only.
    argv += _system_binds(spec.system_paths)
    if spec.extract_dir is not None:
        # The project's extract, read-only: a job can never change the data it analyses.
        argv += ["--ro-bind", str(spec.extract_dir), DATA_MOUNT]
    argv += [
        # The code, read-only, so the code that ran is the code that was recorded.
        "--ro-bind",
        str(spec.code_dir),
        CODE_MOUNT,
        # The one writable folder: everything the job wants to keep goes here.
        "--bind",
        str(spec.outputs_dir),
        OUTPUTS_MOUNT,
        # The sandbox's root is a tmpfs bwrap made; freeze it so nothing else is writable.
        "--remount-ro",
        "/",
        "--chdir",
        CODE_MOUNT,
        "--",
        *spec.command,
    ]
    return argv
