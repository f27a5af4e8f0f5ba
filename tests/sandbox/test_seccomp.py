"""The seccomp filter itself; tests/workspaces/test_worker_seccomp.py runs jobs under it."""

import os

import pyseccomp

from havenkit.sandbox.seccomp import DENIED, compiled_filter, filter_fd


def test_every_denied_call_exists_here_and_says_why():
    for name, why in DENIED.items():
        assert pyseccomp.resolve_syscall(pyseccomp.Arch.NATIVE, name) >= 0, name
        assert len(why) > 10, name


def test_the_filter_is_compiled_once_per_process():
    assert compiled_filter() is compiled_filter()
    # A BPF program is a whole number of 8-byte instructions.
    assert len(compiled_filter()) % 8 == 0


def test_each_job_gets_its_own_descriptor_holding_the_whole_program():
    first, second = filter_fd(), filter_fd()
    try:
        assert first != second
        assert os.read(first, 1 << 20) == compiled_filter()
        assert os.read(second, 1 << 20) == compiled_filter()
    finally:
        os.close(first)
        os.close(second)
