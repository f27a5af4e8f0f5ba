"""`havenkit demo`: a whole demo haven, made once, whose credentials only a demo will print."""

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django_otp.plugins.otp_totp.models import TOTPDevice

from havenkit.core.models import AuditEvent
from havenkit.core.roles import Role
from havenkit.data import services
from havenkit.data.management.commands.demo import EXAMPLE_SCRIPT, EXAMPLE_SCRIPT_NAME
from havenkit.data.models import DatasetVersion, Extract
from havenkit.people.models import User
from havenkit.projects.models import Project
from havenkit.projects.services import create_active_project
from havenkit.workspaces.models import CodeVersion

pytestmark = pytest.mark.django_db


def demo(*args: str, capsys) -> str:
    call_command("demo", *args)
    return capsys.readouterr().out


@pytest.fixture
def demo_instance(capsys) -> str:
    return demo("setup", "--people", "500", capsys=capsys)


def marker() -> Path:
    return Path(settings.HAVENKIT_HOME) / "demo-instance.json"


def test_setup_creates_every_account_with_its_roles(demo_instance):
    roles = {user.username: user.role_names() for user in User.objects.all()}
    assert roles == {
        "rachel": ["researcher"],
        "priya": ["pi", "researcher"],
        "dan": ["data_steward"],
        "olivia": ["output_checker"],
        "oscar": ["output_checker"],
        "alex": ["approver"],
        "ada": ["administrator"],
        "aud": ["auditor"],
        "newstarter": ["researcher"],
    }
    with_device = set(
        TOTPDevice.objects.filter(confirmed=True).values_list("user__username", flat=True)
    )
    assert with_device == set(roles) - {"newstarter"}
    assert User.objects.get(username="newstarter").must_change_password
    assert not User.objects.get(username="rachel").must_change_password
    assert stat.S_IMODE(marker().stat().st_mode) == 0o600
    passwords = json.loads(marker().read_text())["passwords"]
    assert User.objects.get(username="priya").check_password(passwords["priya"])


def test_setup_makes_the_project_extract_and_example_script(demo_instance):
    project = Project.objects.get(reference="HK-2026-001")
    assert project.is_active
    assert {m.user.username: m.project_role for m in project.memberships.all()} == {
        "priya": "pi",
        "rachel": "researcher",
    }
    dataset_version = DatasetVersion.objects.get()
    assert dataset_version.dataset.data_controller == "Public Health Scotland (synthetic)"
    assert dataset_version.tables["people"]["rows"] == 500
    extract = services.current_extract(project)
    assert extract.tables["people"]["columns"] == [
        "pseudonym",
        "sex",
        "date_of_birth",
        "postcode_district",
        "simd_quintile",
    ]
    code = CodeVersion.objects.get(code_file__project=project)
    assert (code.code_file.name, code.author.username) == (EXAMPLE_SCRIPT_NAME, "rachel")
    assert "Created: account rachel" in demo_instance
    assert "password" in demo_instance


def test_second_setup_changes_nothing(demo_instance, capsys):
    events = AuditEvent.objects.count()
    passwords = marker().read_text()
    output = demo("setup", "--people", "500", capsys=capsys)
    assert AuditEvent.objects.count() == events
    assert marker().read_text() == passwords
    assert User.objects.count() == 9
    assert TOTPDevice.objects.count() == 8
    assert (Project.objects.count(), Extract.objects.count(), CodeVersion.objects.count()) == (
        1,
        1,
        1,
    )
    assert "Created" not in output


def test_extract_holds_pseudonyms_and_never_a_chi(demo_instance):
    dataset_version = DatasetVersion.objects.get()
    home = Path(settings.HAVENKIT_HOME)
    chis = set(
        pq.read_table(home / dataset_version.storage_path / "people.parquet")["chi"].to_pylist()
    )
    extract = services.current_extract(Project.objects.get(reference="HK-2026-001"))
    for name in ("people", "admissions", "prescriptions"):
        table = pq.read_table(services.extract_directory(extract) / f"{name}.parquet")
        assert "pseudonym" in table.column_names
        assert "chi" not in table.column_names
        values = {str(v) for column in table.columns for v in column.to_pylist()}
        assert values.isdisjoint(chis)
    csv = (services.extract_directory(extract) / "admissions.csv").read_text()
    assert not any(chi in csv for chi in chis)


def test_another_project_gets_pseudonyms_that_do_not_link(demo_instance, make_person):
    demo_project = Project.objects.get(reference="HK-2026-001")
    dataset_version = DatasetVersion.objects.get()
    pi = make_person(Role.RESEARCHER, Role.PI)
    other = create_active_project(
        reference="HK-2026-002",
        title="Another project",
        organisation="University of Glasgow",
        lay_summary="Another summary.",
        public_benefit="Another benefit.",
        pi=pi,
        researchers=[],
        datasets_used=dataset_version.dataset.title,
        start_date=demo_project.start_date,
        end_date=demo_project.end_date,
        approved_by=User.objects.get(username="alex"),
        datasets=[dataset_version.dataset],
        variables=["people.chi", "people.simd_quintile"],
    )
    other_extract = services.build_pseudonymised_extract(
        other,
        dataset_version,
        {"people": ["chi", "simd_quintile"]},
        User.objects.get(username="dan"),
    )

    def pseudonyms(extract: Extract) -> set[str]:
        path = services.extract_directory(extract) / "people.parquet"
        return set(pq.read_table(path)["pseudonym"].to_pylist())

    first, second = pseudonyms(services.current_extract(demo_project)), pseudonyms(other_extract)
    assert len(first) == len(second) == 500
    assert first.isdisjoint(second)


def test_example_script_runs_on_the_extract(demo_instance, tmp_path):
    extract = services.current_extract(Project.objects.get(reference="HK-2026-001"))
    script = tmp_path / EXAMPLE_SCRIPT_NAME
    script.write_text(EXAMPLE_SCRIPT)
    env = {
        **os.environ,
        "HAVENKIT_EXTRACT": str(services.extract_directory(extract)),
        "HAVENKIT_OUTPUTS": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "heart-attack admissions by SIMD quintile" in result.stdout
    lines = (tmp_path / "admissions_by_quintile.csv").read_text().splitlines()
    assert lines[0] == "simd_quintile,people,heart_attack_admissions,per_1000_people"
    assert [line.split(",")[0] for line in lines[1:]] == ["1", "2", "3", "4", "5"]


def test_accounts_json_lists_passwords_and_secrets(demo_instance, capsys):
    cards = {
        card["username"]: card for card in json.loads(demo("accounts", "--json", capsys=capsys))
    }
    passwords = json.loads(marker().read_text())["passwords"]
    assert set(cards) == set(passwords)
    assert cards["priya"]["roles"] == ["pi", "researcher"]
    assert cards["priya"]["password"] == passwords["priya"]
    assert cards["newstarter"]["totp_secret"] is None
    assert len(cards["rachel"]["totp_secret"]) == 32


def test_totp_prints_a_code_the_device_accepts(demo_instance, capsys):
    code = demo("totp", "olivia", capsys=capsys).strip()
    assert len(code) == 6
    assert code.isdigit()
    device = TOTPDevice.objects.get(user__username="olivia")
    assert device.verify_token(code)


@pytest.mark.parametrize(
    ("username", "message"),
    [("bob", "There is no demo account called 'bob'"), ("newstarter", "no authenticator yet")],
)
def test_totp_explains_who_has_no_code(demo_instance, username, message):
    with pytest.raises(CommandError, match=message):
        call_command("demo", "totp", username)


@pytest.mark.parametrize("args", [("accounts",), ("accounts", "--json"), ("totp", "rachel")])
def test_credentials_are_refused_on_an_instance_not_made_by_make_demo(args):
    with pytest.raises(CommandError, match="This instance was not created by `make demo`"):
        call_command("demo", *args)


def test_credentials_are_refused_once_the_marker_is_gone(demo_instance):
    marker().unlink()
    with pytest.raises(CommandError, match="not created by `make demo`"):
        call_command("demo", "accounts")


def test_setup_refuses_to_turn_a_real_instance_into_a_demo(make_person):
    make_person(Role.ADMINISTRATOR)
    with pytest.raises(CommandError, match="already has accounts"):
        call_command("demo", "setup", "--people", "50")
    assert not marker().exists()
    assert User.objects.count() == 1


def test_refusal_exits_non_zero_from_the_command_line():
    env = {**os.environ, "HAVENKIT_HOME": str(Path(settings.HAVENKIT_HOME) / "cli-home")}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "havenkit.cli", "demo", "accounts"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "This instance was not created by `make demo`" in result.stderr


def test_setup_describes_the_cohort_in_the_catalogue(demo_instance):
    version = DatasetVersion.objects.get()
    chi = version.variables.get(table="people", name="chi")
    quintile = version.variables.get(table="people", name="simd_quintile")
    assert chi.is_identifier
    assert quintile.allowed_values == ["1", "2", "3", "4", "5"]
    assert quintile.is_quasi_identifier
    assert version.variables.count() == sum(len(t["columns"]) for t in version.tables.values())
    assert version.dataset.update_schedule == "Quarterly"


def test_setup_describes_a_cohort_made_before_the_catalogue(demo_instance, capsys):
    version = DatasetVersion.objects.get()
    version.variables.all().delete()
    demo("setup", capsys=capsys)
    assert version.variables.filter(table="admissions", name="icd10").exists()
