"""What a sandboxed job may see and use, and the bubblewrap command line that enforces it.

Every security-relevant flag is set in this module, in :func:`bubblewrap_command` and the
three helpers it assembles (environment, file system, the job account's inner layer), each
with the reason it is there, so a reviewer reads the whole sandbox in one place. The system
calls a job may not make are listed, each with its reason, in :mod:`havenkit.sandbox.seccomp`.
"""

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import havenkit

# Where the job finds its inputs and writes its results, inside the sandbox.
CODE_MOUNT = "/code"
# The haven's output-checking rules as JSON, in the job's code folder (havenkit.sdc.config).
SDC_CONFIG_NAME = "haven-sdc.json"
DATA_MOUNT = "/data"
REFERENCE_MOUNT = "/reference"
OUTPUTS_MOUNT = "/outputs"
# The sandbox's own tmpfs, private to the job and gone when it ends (not the host's /tmp).
SCRATCH_MOUNT = "/tmp"  # noqa: S108

# The uid and gid the job has inside the sandbox ("nobody"). On the host it is the job account
# (see :class:`SandboxSpec`), never root, even when havenkit itself runs as root.
NOBODY = "65534"
NOBODY_ID = 65534
# Where the sandbox finds the programs that set it up; they are part of the bound /usr.
BWRAP = "/usr/bin/bwrap"
SETPRIV = "/usr/bin/setpriv"


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
    # The unprivileged host account the job's processes run as when havenkit runs as root
    # (a dedicated account such as ``havenkit-job``, or nobody); it is given ``outputs_dir``.
    job_uid: int = NOBODY_ID
    job_gid: int = NOBODY_ID
    # The project's reference tables approved through the airlock (code lists, lookups), if any.
    reference_dir: Path | None = None


def _system_binds(paths: tuple[Path, ...]) -> list[str]:
    """Mirror each host system path read-only, keeping symlinks (``/lib -> usr/lib``) as links.

    bwrap copies the mode of a bound path's host parents (``/root`` is 0700), which would lock
    the unprivileged job out of an interpreter installed under them, so the parents are made
    first as plain 0755 folders: they hold nothing but the bound paths.
    """
    argv: list[str] = []
    parents = dict.fromkeys(
        parent for path in paths if path.exists() for parent in reversed(path.parents[:-1])
    )
    for parent in parents:
        if parent not in paths and parent != Path(SCRATCH_MOUNT):
            argv += ["--perms", "0755", "--dir", str(parent)]
    for path in paths:
        if path.is_symlink():
            argv += ["--symlink", os.readlink(path), str(path)]
        elif path.exists():
            argv += ["--ro-bind", str(path), str(path)]
    return argv


def _search_path() -> str:
    """The job's PATH: the environment's own ``python`` first, then the system's programs."""
    return ":".join([str(Path(sys.prefix) / "bin"), "/usr/local/bin", "/usr/bin", "/bin"])


def _environment() -> list[str]:
    """Start from an empty environment: none of havenkit's settings or secrets leak in."""
    variables = {
        "PATH": _search_path(),
        "HOME": SCRATCH_MOUNT,
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "HAVENKIT_EXTRACT": DATA_MOUNT,
        "HAVENKIT_REFERENCE": REFERENCE_MOUNT,
        "HAVENKIT_OUTPUTS": OUTPUTS_MOUNT,
        # The haven's output-checking rules, which the worker writes beside the code (so the
        # job cannot change them); havenkit.sdc reads them from here by default.
        "HAVENKIT_SDC_CONFIG": f"{CODE_MOUNT}/{SDC_CONFIG_NAME}",
        "MPLCONFIGDIR": f"{SCRATCH_MOUNT}/matplotlib",
    }
    argv = ["--clearenv"]
    for name, value in variables.items():
        argv += ["--setenv", name, value]
    return argv


def _filesystem(spec: SandboxSpec) -> list[str]:
    """The job's whole view of files: a read-only system, its inputs, and one writable folder."""
    # A /proc for the new pid namespace only: the job sees its own few processes. It stays
    # writable here only so the inner bwrap can write its uid map; the job gets it read-only.
    argv = ["--proc", "/proc"]
    # A minimal /dev (null, zero, random, tty...), never the host's devices.
    argv += ["--dev", "/dev"]
    # Scratch space that disappears with the job (and counts against its memory limit),
    # writable by the job account like any /tmp. Mounted before the system paths, so a
    # virtualenv or checkout that lives under the host's /tmp (as in CI) is bound on top of it
    # rather than hidden by it.
    argv += ["--perms", "1777", "--tmpfs", SCRATCH_MOUNT]
    # The interpreter, its libraries and havenkit's own source, read-only.
    argv += _system_binds(spec.system_paths)
    if spec.extract_dir is not None:
        # The project's extract, read-only: a job can never change the data it analyses.
        argv += ["--ro-bind", str(spec.extract_dir), DATA_MOUNT]
    if spec.reference_dir is not None:
        # Reference tables a reviewer approved into the project, read-only like the extract.
        argv += ["--ro-bind", str(spec.reference_dir), REFERENCE_MOUNT]
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
    ]
    return argv


def _job_account_layer(spec: SandboxSpec, seccomp_fd: int | None) -> list[str]:
    """The inner sandbox that runs the job's command as the unprivileged job account.

    It keeps every mount the outer sandbox made and adds a user namespace in which the job is
    uid 65534, mapped to the job account on the host (bwrap maps it to the uid it runs as).
    """
    # The system calls a job never needs fail with EPERM (see havenkit.sandbox.seccomp).
    # This bwrap loads the filter last, after its own mounts, just before the job's command;
    # the outer one could not, because this one still needs those calls to set up.
    seccomp = ["--seccomp", str(seccomp_fd)] if seccomp_fd is not None else []
    return [
        BWRAP,
        *seccomp,
        "--unshare-user",
        # Forbid the job from making a nested user namespace, where it could pretend to be root.
        "--disable-userns",
        "--uid",
        NOBODY,
        "--gid",
        NOBODY,
        # No capabilities at all, not even inside its own namespace.
        "--cap-drop",
        "ALL",
        "--die-with-parent",
        "--new-session",
        # Everything the outer sandbox mounted, already read-only except /outputs and /tmp
        # (and mounts handed to a less privileged user namespace cannot be made writable).
        "--bind",
        "/",
        "/",
        # The job's /proc is read-only: no kernel setting can be written from the job.
        "--ro-bind",
        "/proc",
        "/proc",
        "--remount-ro",
        "/",
        "--chdir",
        CODE_MOUNT,
        "--",
        *spec.command,
    ]


def bubblewrap_command(
    spec: SandboxSpec, as_root: bool | None = None, seccomp_fd: int | None = None
) -> list[str]:
    """The full argv that runs ``spec.command`` with nothing but what the job needs.

    Two bwraps, one inside the other. The outer one builds the job's view of the files from
    the host paths; it runs with havenkit's own rights, because an unprivileged bwrap cannot
    even look into folders such as ``/root`` (0700) where the interpreter may live. The inner
    one runs as the unprivileged job account, so the job's processes are never root on the
    host. ``as_root`` says whether havenkit runs as root (default: ask the kernel).
    ``seccomp_fd`` is an open descriptor of :func:`havenkit.sandbox.seccomp.filter_fd`, passed
    down to the inner bwrap; the runner always gives one.
    """
    if as_root is None:
        as_root = os.geteuid() == 0
    argv = [
        BWRAP,
        # New network namespace with no interfaces (not even a working loopback), so no
        # service of the host or the internet is reachable; new pid, ipc, uts and cgroup
        # namespaces hide the host's processes, shared memory, names and control groups.
        "--unshare-net",
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup",
        # If havenkit's worker dies, the job dies with it rather than running unwatched.
        "--die-with-parent",
        # A new session, so the job cannot reach the worker's terminal (TIOCSTI injection).
        "--new-session",
        "--hostname",
        "sandbox",
        *_environment(),
        *_filesystem(spec),
    ]
    if as_root:
        argv += [
            # Drop every capability but the two setpriv needs to become the job account;
            # the kernel clears those too the moment the uid is no longer 0.
            "--cap-drop",
            "ALL",
            "--cap-add",
            "CAP_SETUID",
            "--cap-add",
            "CAP_SETGID",
            "--",
            SETPRIV,
            f"--reuid={spec.job_uid}",
            f"--regid={spec.job_gid}",
            "--clear-groups",
            "--inh-caps=-all",
            "--no-new-privs",
            "--",
        ]
    else:
        argv += [
            # havenkit is already unprivileged: the outer sandbox needs a user namespace of
            # its own to mount anything, and the job runs as havenkit's account on the host.
            "--unshare-user",
            "--cap-drop",
            "ALL",
            "--",
        ]
    return argv + _job_account_layer(spec, seccomp_fd)
