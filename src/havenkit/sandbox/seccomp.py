"""The system calls a job may not make: a seccomp filter, as defence in depth behind bubblewrap.

The namespaces, the read-only mounts and the unprivileged job account already stop a job
reaching data or the network. Each call denied here is one an analysis never needs and that
has been the way into the kernel (or out of the sandbox) when some other layer had a flaw.
Everything else is allowed, so Python, R and their libraries run unchanged: a denied call
fails with EPERM, as the call of an unprivileged user would, and the job can say so.

libseccomp compiles the rules into a BPF program once per process (:func:`compiled_filter`);
the innermost bwrap loads it from a file descriptor (``--seccomp FD``) just before it starts
the job's command, after bwrap has made its own mounts and namespaces.
"""

import errno
import functools
import os
import socket

import pyseccomp as seccomp

# Each denied call, and why a job is better without it.
DENIED: dict[str, str] = {
    # Reading or changing another process's memory: the way to attack the job's own sandbox
    # helpers, or anything else running as the job account.
    "ptrace": "debugs or takes over another process",
    "process_vm_readv": "reads another process's memory",
    "process_vm_writev": "writes another process's memory",
    "pidfd_getfd": "takes a copy of another process's open files",
    # The kernel's key store is shared beyond the sandbox's namespaces.
    "keyctl": "reaches the kernel's key store, which namespaces do not separate",
    "add_key": "adds to the kernel's key store",
    "request_key": "asks the kernel's key store (and its helpers) for a key",
    # Large, often-exploited kernel interfaces that no analysis uses.
    "bpf": "loads programs into the kernel",
    "perf_event_open": "reads performance counters, a side channel on other processes",
    "userfaultfd": "pauses the kernel mid-copy, a common step in kernel exploits",
    "io_uring_setup": "io_uring: a second system-call interface that this filter cannot see",
    "io_uring_enter": "io_uring: a second system-call interface that this filter cannot see",
    "io_uring_register": "io_uring: a second system-call interface that this filter cannot see",
    # Changing the running kernel.
    "kexec_load": "replaces the running kernel",
    "kexec_file_load": "replaces the running kernel",
    "init_module": "loads code into the kernel",
    "finit_module": "loads code into the kernel",
    "delete_module": "unloads part of the kernel",
    # Remaking the file system or namespaces that bubblewrap set up for the job.
    "mount": "changes the job's view of files that bubblewrap made",
    "umount2": "uncovers what bubblewrap's mounts hide",
    "pivot_root": "changes the job's root folder",
    "fsopen": "the newer mount interface, refused like mount",
    "fsmount": "the newer mount interface, refused like mount",
    "fsconfig": "the newer mount interface, refused like mount",
    "fspick": "the newer mount interface, refused like mount",
    "move_mount": "the newer mount interface, refused like mount",
    "open_tree": "the newer mount interface, refused like mount",
    "mount_setattr": "makes a read-only mount writable, or the reverse",
    "unshare": "makes new namespaces, outside the ones bubblewrap set up",
    "setns": "joins another namespace",
    # Opening a file by its handle skips every folder's permissions on the way to it.
    "open_by_handle_at": "opens files by handle, past folder permissions (the 'shocker' escape)",
    "name_to_handle_at": "makes the file handles open_by_handle_at uses",
}

# clone() may make the same namespaces unshare() would; each flag is refused on its own.
_NAMESPACE_FLAGS = {
    "CLONE_NEWNS": 0x00020000,
    "CLONE_NEWCGROUP": 0x02000000,
    "CLONE_NEWUTS": 0x04000000,
    "CLONE_NEWIPC": 0x08000000,
    "CLONE_NEWUSER": 0x10000000,
    "CLONE_NEWPID": 0x20000000,
    "CLONE_NEWNET": 0x40000000,
    "CLONE_NEWTIME": 0x00000080,
}
# personality(): only Linux's own (0) may be set. Others turn off address-space randomisation
# or make data executable, which help an exploit. Even asking (0xffffffff) is refused: one
# libseccomp rule cannot allow two values, and no analysis tool asks.
_PER_LINUX = 0


def _rules() -> seccomp.SyscallFilter:
    denied = seccomp.ERRNO(errno.EPERM)
    rules = seccomp.SyscallFilter(seccomp.ALLOW)
    for name in DENIED:
        rules.add_rule(denied, name)
    for flag in _NAMESPACE_FLAGS.values():
        rules.add_rule(denied, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
    # clone3 passes its flags in memory, where a filter cannot look. ENOSYS ("no such call")
    # makes glibc fall back to clone, whose flags are checked above; threads keep working.
    rules.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    # Sockets of the local kind only: no netlink (the kernel's routing and audit interfaces),
    # no raw packets, no Bluetooth, vsock and the like. Internet sockets would find no
    # interface in the sandbox anyway; refusing them says so at once.
    rules.add_rule(denied, "socket", seccomp.Arg(0, seccomp.NE, socket.AF_UNIX))
    rules.add_rule(denied, "personality", seccomp.Arg(0, seccomp.NE, _PER_LINUX))
    return rules


@functools.cache
def compiled_filter() -> bytes:
    """The filter as the BPF program bwrap loads, compiled once per process."""
    with os.fdopen(os.memfd_create("havenkit-seccomp"), "w+b") as program:
        _rules().export_bpf(program)
        program.seek(0)
        return program.read()


def filter_fd() -> int:
    """A new file descriptor holding the filter, for one bwrap to read (the caller closes it).

    Each job gets its own, because bwrap reads the program from the descriptor's position.
    """
    fd = os.memfd_create("havenkit-seccomp", 0)
    os.write(fd, compiled_filter())
    os.lseek(fd, 0, os.SEEK_SET)
    return fd
