"""Escape and limit tests, each asserted from inside a real job that the worker runs, on this
machine and through Slurm.

A job prints what it managed to do as one JSON line; the test reads it back from the log.
"""

import json
import socket
from datetime import date
from textwrap import dedent

import pyarrow as pa
import pytest
from django.core.management import call_command

from havenkit.core.roles import Role
from havenkit.data import services as data
from havenkit.data.keys import master_key_path
from havenkit.projects import services as projects
from havenkit.workspaces import services
from havenkit.workspaces.models import Job, JobState

pytestmark = [pytest.mark.django_db, pytest.mark.sandbox, pytest.mark.usefixtures("executor")]

PROBE_MARK = "PROBE "
FORK_BOMB = (
    "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
)
MEMORY_HOG = "hoard = []\nwhile True:\n    hoard.append(b'x' * 10**7)\n"
DISK_FILLER = (
    "n = 0\nwhile True:\n    open(f'/outputs/{n}.bin', 'wb').write(b'x' * 2**20)\n    n += 1\n"
)
ENDLESS_LOOP = "while True:\n    pass\n"


def _queue(project, researcher, source: str, name: str = "probe.py") -> Job:
    version = services.save_code_file(project, name, dedent(source), researcher)
    return services.submit_job(project, version, researcher)


def _run_worker() -> None:
    call_command("worker", "--once", "--poll-interval", "0.1")


def _probe(project, researcher, source: str) -> dict:
    """Run ``source``, which ends by calling ``report(dict)``, and return that dict."""
    prelude = f"import json\ndef report(found):\n    print({PROBE_MARK!r} + json.dumps(found))\n"
    job = _queue(project, researcher, prelude + dedent(source))
    _run_worker()
    job.refresh_from_db()
    log = services.read_log(job)[0]
    assert job.state == JobState.SUCCEEDED, log
    line = next(line for line in log.splitlines() if line.startswith(PROBE_MARK))
    return json.loads(line.removeprefix(PROBE_MARK))


def _refused(paths: list[str], mode: str) -> str:
    """Job source that tries to open each path and reports how it went."""
    return f"""
    found = {{}}
    for path in {paths!r}:
        try:
            with open(path, {mode!r}) as handle:
                handle.read() if {mode!r} == "rb" else handle.write(b"x")
            found[path] = "done"
        except OSError as error:
            found[path] = type(error).__name__
    report(found)
    """


@pytest.fixture
def other_project(make_person, extract):
    """A second project with its own extract, whose data no job of ``project`` may see."""
    steward = make_person(Role.DATA_STEWARD)
    project = projects.create_active_project(
        reference="HK-0002",
        title="Diabetes in Fife",
        organisation="University of St Andrews",
        lay_summary="Diabetes care.",
        public_benefit="Better diabetes care.",
        pi=make_person(Role.RESEARCHER, Role.PI, username="pia"),
        researchers=[],
        datasets_used="SMR01",
        start_date=date(2025, 1, 1),
        end_date=date(2099, 12, 31),
        approved_by=make_person(Role.APPROVER),
    )
    data.create_extract(
        project,
        extract.dataset_version,
        {"admissions": pa.table({"pseudonym": ["secret"]})},
        recipe={},
        created_by=steward,
    )
    return project


def test_cannot_connect_to_the_portal_or_any_address(project, researcher):
    with socket.create_server(("127.0.0.1", 0)) as portal:
        port = portal.getsockname()[1]
        found = _probe(
            project,
            researcher,
            f"""
            import socket
            found = {{}}
            for address in [("127.0.0.1", {port}), ("::1", {port}), ("1.1.1.1", 443),
                            ("10.0.0.1", 80), ("192.168.0.1", 80)]:
                try:
                    socket.create_connection(address, timeout=2).close()
                    found[str(address)] = "connected"
                except OSError as error:
                    found[str(address)] = type(error).__name__
            # (From /proc: the seccomp filter refuses the netlink socket if_nameindex uses.)
            devices = open("/proc/net/dev").read().splitlines()[2:]
            found["interfaces"] = [line.split(":")[0].strip() for line in devices]
            report(found)
            """,
        )
    assert found.pop("interfaces") == ["lo"]
    assert "connected" not in found.values()
    assert len(found) == 5


def test_cannot_resolve_a_name(project, researcher):
    found = _probe(
        project,
        researcher,
        """
        import socket
        try:
            socket.getaddrinfo("pypi.org", 443)
            report({"outcome": "resolved"})
        except OSError as error:
            report({"outcome": type(error).__name__})
        """,
    )
    assert found == {"outcome": "gaierror"}


def test_cannot_read_another_projects_extract_the_database_keys_or_havenkit_home(
    project, researcher, other_project, settings
):
    master_key_path().parent.mkdir(parents=True, exist_ok=True)
    master_key_path().write_bytes(b"k" * 32)
    database = settings.HAVENKIT_HOME / "havenkit.sqlite3"
    database.write_bytes(b"SQLite format 3\0")
    other = data.extract_directory(data.current_extract(other_project)) / "admissions.csv"
    assert other.is_file()
    secrets = [str(other), str(database), str(master_key_path()), str(settings.HAVENKIT_HOME)]
    found = _probe(project, researcher, _refused(secrets, "rb"))
    assert set(found.values()) == {"FileNotFoundError"}, found
    # Its own extract is there, read-only.
    own = _probe(project, researcher, _refused(["/data/admissions.csv"], "rb"))
    assert own == {"/data/admissions.csv": "done"}


def test_cannot_write_outside_its_outputs(project, researcher, extract):
    targets = ["/data/admissions.csv", "/code/probe.py", "/new.txt", "/usr/evil", "/etc/evil"]
    found = _probe(project, researcher, _refused([*targets, "/outputs/ok.txt"], "ab"))
    assert found.pop("/outputs/ok.txt") == "done"
    assert "done" not in found.values(), found
    original = data.extract_directory(data.current_extract(project)) / "admissions.csv"
    assert b"x" not in original.read_bytes()[-1:]


def test_cannot_see_host_processes(project, researcher):
    found = _probe(
        project,
        researcher,
        """
        import os
        report({"pids": [int(name) for name in os.listdir("/proc") if name.isdigit()]})
        """,
    )
    # The sandbox's own init, the layer that drops to the job account, and the job itself.
    assert max(found["pids"]) <= 4


@pytest.mark.parametrize(
    ("source", "state", "limit_hit"),
    [
        (FORK_BOMB, JobState.FAILED, "processes"),
        (MEMORY_HOG, JobState.FAILED, "memory"),
        (DISK_FILLER, JobState.FAILED, "output_size"),
        (ENDLESS_LOOP, JobState.TIMED_OUT, "wall_time"),
    ],
    ids=["fork bomb", "memory hog", "disk filler", "endless loop"],
)
def test_a_misbehaving_job_is_stopped_and_recorded_while_another_finishes(
    project, researcher, settings, source, state, limit_hit
):
    settings.JOB_WALL_SECONDS = 4
    settings.JOB_MEMORY_BYTES = 200 * 1024**2
    bad = _queue(project, researcher, source, name="bad.py")
    good = _queue(
        project,
        researcher,
        "import time\ntime.sleep(1)\nopen('/outputs/fine.txt', 'w').write('fine')\n",
        name="good.py",
    )
    _run_worker()
    bad.refresh_from_db()
    good.refresh_from_db()
    assert (bad.state, bad.limit_hit) == (state, limit_hit), services.read_log(bad)[0]
    assert bad.failure_reason
    assert good.state == JobState.SUCCEEDED, services.read_log(good)[0]
    assert [output.name for output in good.outputs.all()] == ["fine.txt"]
    # The two ran side by side.
    assert good.started_at < bad.finished_at
    # And the machine still runs jobs afterwards.
    after = _queue(project, researcher, "print('still here')\n", name="after.py")
    _run_worker()
    after.refresh_from_db()
    assert after.state == JobState.SUCCEEDED
