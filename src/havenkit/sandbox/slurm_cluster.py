"""A throw-away single-node Slurm cluster on loopback, for the tests and the benchmark.

slurmctld and slurmd from Debian's slurm-wlm, run in the foreground by whoever starts them,
with a generated slurm.conf in a folder of their own. It is not how a haven runs Slurm (see
docs/operations.md); it is the smallest real cluster the Slurm executor can be tested against.
"""

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SLURMCTLD = "/usr/sbin/slurmctld"
SLURMD = "/usr/sbin/slurmd"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def slurm_conf(folder: Path) -> str:
    """One node (this machine, on loopback) in one partition, no accounting database.

    auth/none: nothing leaves loopback and the caller owns both daemons, so munge adds nothing.
    Without slurmdbd there is no ``sacct``; havenkit follows jobs with ``scontrol`` instead.
    """
    memory_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 1024**2
    settings = {
        "ClusterName": f"havenkit-{os.getpid()}",
        "SlurmctldHost": "localhost",
        "SlurmctldPort": _free_port(),
        "SlurmdPort": _free_port(),
        "AuthType": "auth/none",
        "CredType": "cred/none",
        "SlurmUser": "root",
        "SlurmdUser": "root",
        "StateSaveLocation": folder / "state",
        "SlurmdSpoolDir": folder / "spool",
        "SlurmctldPidFile": folder / "slurmctld.pid",
        "SlurmdPidFile": folder / "slurmd.pid",
        "SlurmctldLogFile": folder / "slurmctld.log",
        "SlurmdLogFile": folder / "slurmd.log",
        # Processes are tracked by parentage; havenkit's runner makes the job's cgroups itself.
        "ProctrackType": "proctrack/linuxproc",
        "TaskPlugin": "task/none",
        "SelectType": "select/cons_tres",
        "SelectTypeParameters": "CR_Core_Memory",
        "JobAcctGatherType": "jobacct_gather/none",
        "AccountingStorageType": "accounting_storage/none",
        "JobCompType": "jobcomp/none",
        "MpiDefault": "none",
        "ReturnToService": 2,
        "SchedulerType": "sched/backfill",
        # Short jobs: try to start a batch job the moment it is submitted, rather than after
        # up to three seconds of gathering submissions (the default, for clusters taking
        # thousands of jobs a minute). slurmctld still looks at its queue at most once a second.
        "SchedulerParameters": "batch_sched_delay=0",
        # A job's record is kept for five minutes after it ends (the default, said here because
        # the worker relies on it): long enough for ``squeue --states=all`` to report the end.
        "MinJobAge": 300,
    }
    lines = [f"{key}={value}" for key, value in settings.items()]
    lines += [
        f"NodeName=localhost NodeAddr=127.0.0.1 CPUs={os.cpu_count()} RealMemory={memory_mb // 2}",
        "PartitionName=havenkit Nodes=localhost Default=YES MaxTime=INFINITE State=UP",
    ]
    return "\n".join(lines) + "\n"


@contextmanager
def loopback_cluster(folder: Path, timeout: float = 30) -> Iterator[Path]:
    """Start the cluster in ``folder``, point this process's Slurm commands at it, yield its
    slurm.conf, and stop both daemons afterwards."""
    for name in ("state", "spool"):
        (folder / name).mkdir(parents=True, exist_ok=True)
    conf = folder / "slurm.conf"
    conf.write_text(slurm_conf(folder))
    daemons = [
        subprocess.Popen([SLURMCTLD, "-D", "-f", str(conf)], stderr=subprocess.DEVNULL),
        subprocess.Popen(
            [SLURMD, "-D", "-N", "localhost", "-f", str(conf)], stderr=subprocess.DEVNULL
        ),
    ]
    previous = os.environ.get("SLURM_CONF")
    os.environ["SLURM_CONF"] = str(conf)
    try:
        deadline = time.monotonic() + timeout
        while (
            "idle"
            not in subprocess.run(
                [shutil.which("sinfo") or "sinfo", "--noheader", "--format", "%T"],
                capture_output=True,
                text=True,
                check=False,
            ).stdout
        ):
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"Slurm did not start within {timeout} s; see {folder}/slurmctld.log"
                )
            time.sleep(0.2)
        yield conf
    finally:
        for daemon in daemons:
            daemon.terminate()
        for daemon in daemons:
            daemon.wait(timeout=30)
        if previous is None:
            os.environ.pop("SLURM_CONF", None)
        else:
            os.environ["SLURM_CONF"] = previous
