"""A cgroup v1 memory and pids group per job, when the machine lets havenkit make one.

Control groups limit the job as a whole (every process it starts), where rlimits only limit
each process; they also tell us afterwards which limit the job hit and how much memory it
used at its peak. Each group is made inside havenkit's own group, so whatever limit the host
puts on havenkit still holds for its jobs.
"""

import contextlib
import os
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


def _own_group(controller: str) -> Path | None:
    """The folder of the cgroup this process is in, for one v1 controller."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _hierarchy, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            folder = CGROUP_ROOT / controller / path.lstrip("/")
            return folder if folder.is_dir() and os.access(folder, os.W_OK) else None
    return None


def _make_group(controller: str, name: str) -> Path | None:
    parent = _own_group(controller)
    if parent is None:
        return None
    try:
        folder = parent / name
        folder.mkdir()
    except OSError:
        return None
    return folder


def _read_int(path: Path) -> int:
    return int(path.read_text().split()[0])


def _read_counters(path: Path) -> dict[str, int]:
    """Parse a ``key value`` per line file such as ``memory.oom_control`` or ``pids.events``."""
    counters = {}
    for line in path.read_text().splitlines():
        key, _, value = line.partition(" ")
        if value.strip().lstrip("-").isdigit():
            counters[key] = int(value)
    return counters


@dataclass
class JobCgroup:
    """The memory and/or pids groups of one job; either may be missing on a given machine."""

    memory: Path | None
    pids: Path | None

    @classmethod
    def create(cls, memory_bytes: int, max_processes: int) -> "JobCgroup | None":
        """Make the groups with their limits set, or return None if the machine forbids it."""
        name = f"havenkit-job-{uuid.uuid4().hex[:12]}"
        group = cls(memory=_make_group("memory", name), pids=_make_group("pids", name))
        if group.memory is None and group.pids is None:
            return None
        try:
            if group.memory is not None:
                (group.memory / "memory.limit_in_bytes").write_text(str(memory_bytes))
                swap_limit = group.memory / "memory.memsw.limit_in_bytes"
                if swap_limit.exists():
                    # The same figure for memory plus swap: a job cannot spill into swap.
                    swap_limit.write_text(str(memory_bytes))
            if group.pids is not None:
                (group.pids / "pids.max").write_text(str(max_processes))
        except OSError:
            group.remove()
            return None
        return group

    def _folders(self) -> list[Path]:
        return [folder for folder in (self.memory, self.pids) if folder is not None]

    @contextlib.contextmanager
    def starting_job(self) -> Iterator[None]:
        """Put the calling thread, alone, in the job's groups while it starts the job.

        A new process starts in the groups of the thread that made it, so the job is limited
        from its first instruction without a pre-exec hook in the child (which would make
        Python copy the whole worker with fork instead of using vfork) and without moving a
        running process (which might fork before it moved). cgroup v1 moves single threads
        through ``tasks``; the worker's other threads stay where they are, and this one goes
        back to havenkit's own groups (each job group's parent) as soon as the job started.
        """
        thread = str(threading.get_native_id())
        joined = []
        try:
            for folder in self._folders():
                (folder / "tasks").write_text(thread)
                joined.append(folder)
            yield
        finally:
            for folder in joined:
                (folder.parent / "tasks").write_text(thread)

    @property
    def limits_memory(self) -> bool:
        return self.memory is not None

    @property
    def limits_processes(self) -> bool:
        return self.pids is not None

    def peak_memory_bytes(self) -> int | None:
        if self.memory is None:
            return None
        return _read_int(self.memory / "memory.max_usage_in_bytes")

    def memory_limit_hit(self) -> bool:
        """True when the kernel killed a process of the job for exceeding its memory."""
        if self.memory is None:
            return False
        counters = _read_counters(self.memory / "memory.oom_control")
        if "oom_kill" in counters:
            return counters["oom_kill"] > 0
        # Older kernels do not count kills; a failed charge is the next best sign.
        return _read_int(self.memory / "memory.failcnt") > 0

    def process_limit_hit(self) -> bool:
        """True when the job tried to start more processes than it is allowed."""
        if self.pids is None:
            return False
        return _read_counters(self.pids / "pids.events").get("max", 0) > 0

    def _members(self) -> set[int]:
        """The job's processes; never havenkit's own, even if a thread failed to move back."""
        members: set[int] = set()
        for folder in self._folders():
            try:
                members.update(int(pid) for pid in (folder / "cgroup.procs").read_text().split())
            except OSError:
                continue
        members.discard(os.getpid())
        return members

    def kill_all(self) -> None:
        """SIGKILL every process still in the job's groups, however it was started."""
        for pid in self._members():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                continue

    def remove(self, timeout: float = 5.0) -> None:
        """Remove the groups once the kernel has finished tearing down their processes."""
        deadline = time.monotonic() + timeout
        for folder in (self.memory, self.pids):
            while folder is not None and folder.exists():
                try:
                    folder.rmdir()
                except OSError:
                    if time.monotonic() > deadline:
                        break
                    self.kill_all()
                    # The kernel unlinks exited processes within a few milliseconds.
                    time.sleep(0.002)
