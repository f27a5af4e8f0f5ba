"""A project with a member researcher and an extract, small job limits for fast tests, and
the two executors jobs can run on: this machine, and a real single-node Slurm cluster."""

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest

from havenkit.core.roles import Role
from havenkit.data import services as data
from havenkit.data.models import Dataset, DatasetVersion
from havenkit.projects import services as projects
from havenkit.sandbox.slurm_cluster import loopback_cluster


@pytest.fixture(autouse=True)
def _small_job_limits(settings):
    settings.JOB_WALL_SECONDS = 8
    settings.JOB_CPU_SECONDS = 8
    settings.JOB_MEMORY_BYTES = 1024**3
    settings.JOB_MAX_PROCESSES = 32
    settings.JOB_OUTPUT_BYTES = 5 * 1024**2
    settings.WORKER_CONCURRENCY = 2


@pytest.fixture
def researcher(make_person):
    return make_person(Role.RESEARCHER, username="rosa")


@pytest.fixture
def project(make_person, researcher):
    pi = make_person(Role.RESEARCHER, Role.PI, username="pat")
    return projects.create_active_project(
        reference="HK-0001",
        title="Asthma admissions in Lothian",
        organisation="University of Edinburgh",
        lay_summary="How often people with asthma are admitted to hospital.",
        public_benefit="Better asthma care.",
        pi=pi,
        researchers=[researcher],
        datasets_used="SMR01",
        start_date=date(2025, 1, 1),
        end_date=date(2099, 12, 31),
        approved_by=make_person(Role.APPROVER),
    )


@pytest.fixture
def extract(project, make_person):
    steward = make_person(Role.DATA_STEWARD)
    dataset = Dataset.objects.create(
        title="SMR01", description="Hospital admissions", data_controller="PHS"
    )
    version = DatasetVersion.objects.create(
        dataset=dataset, version=1, storage_path="datasets/smr01/v1", approved_by=steward
    )
    admissions = pa.table(
        {
            "pseudonym": [f"p{n:03d}" for n in range(30)],
            "council_area": ["Edinburgh"] * 18 + ["West Lothian"] * 12,
        }
    )
    return data.create_extract(
        project, version, {"admissions": admissions}, recipe={}, created_by=steward
    )


@pytest.fixture(scope="session")
def slurm_cluster(tmp_path_factory) -> Iterator[Path]:
    """A real single-node Slurm (slurmctld and slurmd) on loopback for this test session."""
    with loopback_cluster(tmp_path_factory.mktemp("slurm")) as conf:
        yield conf


@pytest.fixture(params=["local", "slurm"])
def executor(request, settings) -> str:
    """Run the test's jobs on this machine, then again through the Slurm cluster."""
    if request.param == "slurm":
        request.getfixturevalue("slurm_cluster")
    settings.EXECUTOR = request.param
    return request.param
