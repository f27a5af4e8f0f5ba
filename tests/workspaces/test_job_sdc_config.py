"""Inside a job, havenkit.sdc checks with the haven's rules: the worker writes them read-only
beside the code and the sandbox names them, so a stricter haven changes the job's results."""

import json
from textwrap import dedent

import pytest
from django.core.management import call_command

from havenkit.workspaces import services
from havenkit.workspaces.models import JobState

pytestmark = [pytest.mark.django_db, pytest.mark.sandbox]

# 18 admissions in Edinburgh, 12 in West Lothian (the extract fixture).
TABLE_IN_A_SESSION = """
import json, os
import pandas as pd
from havenkit import sdc

admissions = pd.read_parquet("/data/admissions.parquet")
admissions["all"] = "all"
session = sdc.Session()
table = session.crosstab(admissions.council_area, admissions["all"])
session.finalise("/outputs/sdc")
try:
    open(os.environ["HAVENKIT_SDC_CONFIG"], "a").close()
    writable = True
except OSError:
    writable = False
json.dump(
    {"status": table.status, "threshold": session.config.safe_threshold, "writable": writable},
    open("/outputs/probe.json", "w"),
)
"""


def run_session_job(project, researcher):
    version = services.save_code_file(project, "tables.py", dedent(TABLE_IN_A_SESSION), researcher)
    job = services.submit_job(project, version, researcher)
    call_command("worker", "--once", "--poll-interval", "0.1")
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED, services.read_log(job)[0]
    return job, json.loads((services.outputs_directory(job) / "probe.json").read_text())


def test_a_job_uses_the_default_rules_when_the_haven_sets_none(project, researcher, extract):
    _, probe = run_session_job(project, researcher)
    assert probe == {"status": "pass", "threshold": 10, "writable": False}


@pytest.mark.usefixtures("executor")  # on this machine, then through Slurm
def test_a_stricter_haven_threshold_changes_the_status_in_the_job(
    project, researcher, extract, settings
):
    (settings.HAVENKIT_HOME / "haven.toml").write_text("[sdc]\nsafe_threshold = 15\n")

    job, probe = run_session_job(project, researcher)

    assert probe == {"status": "fail", "threshold": 15, "writable": False}
    recorded = json.loads((services.outputs_directory(job) / "sdc" / "config.json").read_text())
    assert recorded["safe_threshold"] == 15


def test_a_haven_config_that_cannot_be_used_fails_the_job_saying_why(
    project, researcher, extract, settings
):
    (settings.HAVENKIT_HOME / "haven.toml").write_text("[sdc]\nsafe_threshold = 5\n")
    version = services.save_code_file(project, "tables.py", "print(1)\n", researcher)
    job = services.submit_job(project, version, researcher)
    call_command("worker", "--once", "--poll-interval", "0.1")
    job.refresh_from_db()
    assert job.state == JobState.FAILED
    assert "must be at least 10, not 5" in job.failure_reason
