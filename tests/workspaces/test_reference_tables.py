"""Reference tables approved through the airlock are read-only at /reference in every job."""

from textwrap import dedent

import pytest
from django.core.management import call_command

from havenkit.core.roles import Role
from havenkit.data import imports
from havenkit.workspaces import services
from havenkit.workspaces.models import JobState

pytestmark = [pytest.mark.django_db, pytest.mark.sandbox]

READ_REFERENCE = """
import errno
import os
import pandas as pd
chapters = pd.read_parquet(os.environ["HAVENKIT_REFERENCE"] + "/icd10.parquet")
print("chapters", len(chapters))
try:
    open("/reference/new.csv", "w")
except OSError as error:
    print("cannot write:", errno.errorcode[error.errno])
"""


def test_a_job_reads_an_approved_reference_table_read_only(project, researcher, make_person):
    project_import = imports.receive_import(
        project=project,
        file_name="icd10.csv",
        chunks=[b"code,chapter\nI21,Circulatory\nJ18,Respiratory\n"],
        purpose="ICD-10 chapters.",
        uploaded_by=researcher,
    )
    imports.approve(project_import, make_person(Role.DATA_STEWARD))
    version = services.save_code_file(project, "read.py", dedent(READ_REFERENCE), researcher)
    job = services.submit_job(project, version, researcher)
    call_command("worker", "--once", "--poll-interval", "0.1")
    job.refresh_from_db()
    log = services.read_log(job)[0]
    assert job.state == JobState.SUCCEEDED, log
    assert "chapters 2" in log
    assert "cannot write: EROFS" in log
