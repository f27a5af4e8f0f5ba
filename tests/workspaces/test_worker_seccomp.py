"""The seccomp filter, asserted from inside real jobs the worker runs, here and through Slurm:
each call a job never needs fails with EPERM, and analyses that use threads, subprocesses and
local sockets still run."""

import json
from textwrap import dedent

import pyseccomp
import pytest
from django.core.management import call_command

from havenkit.workspaces import services
from havenkit.workspaces.models import JobState

pytestmark = [pytest.mark.django_db, pytest.mark.sandbox, pytest.mark.usefixtures("executor")]


def _number(name: str) -> int:
    """The call's number on this machine, which the job uses through ``syscall()``."""
    return pyseccomp.resolve_syscall(pyseccomp.Arch.NATIVE, name)


# Each is a call that would succeed without the filter (or, for the kernel-wide ones, that
# the filter answers before any other check). ``call`` is Python run inside the job.
ATTEMPTS = {
    "ptrace": "libc.ptrace(0, 0, None, None)",  # PTRACE_TRACEME
    "process_vm_readv": f"libc.syscall({_number('process_vm_readv')}, os.getpid(), None, 0,"
    " None, 0, 0)",
    "unshare": "libc.unshare(0)",
    "setns": "libc.setns(os.open('/proc/self/ns/net', os.O_RDONLY), 0)",
    "io_uring_setup": f"libc.syscall({_number('io_uring_setup')}, 1, ctypes.create_string_buffer"
    "(120))",
    "keyctl": f"libc.syscall({_number('keyctl')}, 0, -3, 0)",  # the session keyring's id
    "bpf": f"libc.syscall({_number('bpf')}, 0, None, 0)",
    "userfaultfd": f"libc.syscall({_number('userfaultfd')}, 0)",
    "personality": "libc.personality(0x0040000)",  # ADDR_NO_RANDOMIZE
    "name_to_handle_at": f"libc.syscall({_number('name_to_handle_at')}, -100, b'/code', "
    "ctypes.create_string_buffer(136), ctypes.byref(ctypes.c_int()), 0)",
    "clone with a new namespace": f"libc.syscall({_number('clone')}, 0x20000 | 17, None, "
    "None, None, None)",  # CLONE_NEWNS | SIGCHLD
    "mount": "libc.mount(b'none', b'/tmp', b'tmpfs', 0, None)",
}
SOCKETS = {
    "socket(AF_NETLINK)": "socket.AF_NETLINK, socket.SOCK_RAW",
    "socket(AF_PACKET)": "socket.AF_PACKET, socket.SOCK_RAW",
    "socket(AF_INET)": "socket.AF_INET, socket.SOCK_STREAM",
    "socket(AF_INET6)": "socket.AF_INET6, socket.SOCK_DGRAM",
}

PROBE = """
import ctypes, errno, json, os, socket
libc = ctypes.CDLL(None, use_errno=True)
found = {}
for name, call in ATTEMPTS.items():
    ctypes.set_errno(0)
    if eval(call) == -1:
        found[name] = errno.errorcode[ctypes.get_errno()]
    else:
        found[name] = "allowed"
for name, arguments in SOCKETS.items():
    try:
        eval(f"socket.socket({arguments})").close()
        found[name] = "allowed"
    except OSError as error:
        found[name] = errno.errorcode[error.errno]
json.dump(found, open("/outputs/probe.json", "w"))
"""

STILL_RUNS = """
import json, socket, subprocess, threading
import duckdb, pandas as pd
found = {}
worker = threading.Thread(target=found.__setitem__, args=("thread", "ran"))
worker.start()
worker.join()
found["subprocess"] = subprocess.run(["echo", "ran"], capture_output=True, text=True).stdout
left, right = socket.socketpair(socket.AF_UNIX)
left.sendall(b"ran")
found["unix socket"] = right.recv(3).decode()
frame = pd.DataFrame({"area": ["a", "a", "b"], "n": [1, 2, 3]})
query = "select area, sum(n) from frame group by area order by area"
found["duckdb"] = duckdb.sql(query).fetchall()
json.dump(found, open("/outputs/probe.json", "w"))
"""


def _run(project, researcher, source: str) -> dict:
    version = services.save_code_file(project, "probe.py", dedent(source), researcher)
    job = services.submit_job(project, version, researcher)
    call_command("worker", "--once", "--poll-interval", "0.1")
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED, services.read_log(job)[0]
    return json.loads((services.outputs_directory(job) / "probe.json").read_text())


def test_every_call_a_job_never_needs_fails_with_eperm(project, researcher):
    source = f"ATTEMPTS = {ATTEMPTS!r}\nSOCKETS = {SOCKETS!r}\n{PROBE}"
    found = _run(project, researcher, source)
    assert found == dict.fromkeys([*ATTEMPTS, *SOCKETS], "EPERM")


def test_threads_subprocesses_local_sockets_pandas_and_duckdb_still_work(project, researcher):
    found = _run(project, researcher, STILL_RUNS)
    assert found == {
        "thread": "ran",
        "subprocess": "ran\n",
        "unix socket": "ran",
        "duckdb": [["a", 3], ["b", 3]],
    }
