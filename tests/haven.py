"""Shared fixtures: a project with real job outputs on disk, made without the sandbox, and the
people around it (a PI, a researcher, two output checkers from outside the project)."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.utils import timezone

from havenkit.core.roles import Role
from havenkit.people.models import User
from havenkit.projects import services as projects
from havenkit.projects.models import Project
from havenkit.workspaces import services as workspaces
from havenkit.workspaces.models import Job, JobState

TABLE_CSV = b"region,patients\nLothian,120\nFife,85\n"
SUMMARY_TXT = b"Mean age 54.2 (n=205)\n<script>alert(1)</script>\n"


@dataclass
class Haven:
    """A project with a PI and a researcher, two output checkers from outside it, and a job."""

    project: Project
    pi: User
    researcher: User
    checker_a: User
    checker_b: User
    job: Job


@pytest.fixture
def make_job(make_person) -> Callable[..., Job]:
    """Run a job "by hand": its outputs are written to disk and recorded as on success."""

    def make(project: Project, author: User, files: dict[str, bytes]) -> Job:
        code = workspaces.save_code_file(project, "analysis.py", "print('tables')\n", author)
        job = workspaces.submit_job(project, code, author)
        outputs = workspaces.outputs_directory(job)
        for name, content in files.items():
            path = outputs / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        job.state = JobState.SUCCEEDED
        job.finished_at = timezone.now()
        job.save()
        workspaces.record_job_outputs(job)
        return job

    return make


@pytest.fixture
def make_project(make_person) -> Callable[..., Project]:
    counter = iter(range(1, 1000))

    def make(pi: User, researchers: list[User]) -> Project:
        return projects.create_active_project(
            reference=f"HK-{next(counter):04d}",
            title="Waiting times for hip replacement",
            organisation="University of Edinburgh",
            lay_summary="How long people wait.",
            public_benefit="Shorter waits.",
            pi=pi,
            researchers=researchers,
            datasets_used="Scottish Morbidity Record 01",
            start_date=date.today() - timedelta(days=30),
            end_date=date.today() + timedelta(days=365),
            approved_by=make_person(Role.APPROVER),
        )

    return make


@pytest.fixture
def haven(make_person, make_project, make_job) -> Haven:
    pi = make_person(Role.RESEARCHER, Role.PI, username="pi")
    researcher = make_person(Role.RESEARCHER, username="researcher")
    project = make_project(pi, [researcher])
    job = make_job(project, researcher, {"table.csv": TABLE_CSV, "summary.txt": SUMMARY_TXT})
    return Haven(
        project=project,
        pi=pi,
        researcher=researcher,
        checker_a=make_person(Role.OUTPUT_CHECKER, username="checker_a"),
        checker_b=make_person(Role.OUTPUT_CHECKER, username="checker_b"),
        job=job,
    )
