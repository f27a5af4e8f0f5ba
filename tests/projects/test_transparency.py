"""The public register (search, CSV, JSON, Atom), access reports and the haven report."""

import csv
import io
import json
from datetime import date, timedelta

import pytest
from django.test import Client

from havenkit.core import audit
from havenkit.core.roles import Role
from havenkit.data.models import Dataset, DatasetVersion, Extract
from havenkit.projects import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def projects(make_person):
    approver = make_person(Role.APPROVER)

    def make(reference: str, title: str, datasets: str, pi_name: str):
        pi = make_person(Role.PI, username=pi_name)
        return services.create_active_project(
            reference=reference,
            title=title,
            organisation="University of Dundee",
            lay_summary=f"About {title.lower()}.",
            public_benefit="Better care.",
            pi=pi,
            researchers=[],
            datasets_used=datasets,
            start_date=date(2026, 1, 1),
            end_date=date(2030, 1, 1),
            approved_by=approver,
        )

    return [
        make("HK-2026-001", "Statins and stroke", "Prescribing", "pat"),
        make("HK-2026-002", "Asthma admissions", "SMR01", "sam"),
    ]


def release(project, files: list[dict], actor=None) -> None:
    audit.record(
        "release.released",
        actor=actor,
        obj=project,
        project=project,
        details={"manifest": {"files": files}},
    )


def csv_rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_search_and_filters_narrow_the_register(projects):
    page = Client().get("/register/", {"q": "asthma"})
    assert b"Asthma admissions" in page.content
    assert b"Statins and stroke" not in page.content
    assert b"Statins and stroke" in Client().get("/register/", {"q": "prescribing"}).content
    assert b"No approved projects match" in Client().get("/register/", {"track": "fast"}).content


def test_the_csv_and_json_match_the_page(projects):
    release(projects[0], [{"name": "table.csv"}, {"name": "figure.png"}])
    page = Client().get("/register/", {"q": "statins"}).content.decode()
    rows = csv_rows(Client().get("/register/register.csv", {"q": "statins"}))
    assert [row["reference"] for row in rows] == ["HK-2026-001"]
    assert rows[0]["outputs_released"] == "2"
    for value in ("title", "organisation", "datasets", "status", "track"):
        assert rows[0][value] in page
    data = json.loads(Client().get("/register/register.json", {"q": "statins"}).content)
    assert data["projects"][0]["title"] == "Statins and stroke"
    assert data["projects"][0]["outputs_released"] == 2


def test_pi_names_are_off_by_default_and_on_when_the_haven_chooses(projects, settings):
    assert "Test Pat" not in Client().get("/register/").content.decode()
    assert csv_rows(Client().get("/register/register.csv"))[0]["principal_investigator"] == ""
    settings.HAVENKIT_REGISTER_SHOWS_PI = True
    assert "Test Pat" in Client().get("/register/").content.decode()


def test_the_atom_feed_lists_new_entries(projects):
    feed = Client().get("/register/feed.atom")
    assert feed["Content-Type"].startswith("application/atom+xml")
    assert b"HK-2026-002: Asthma admissions" in feed.content


@pytest.fixture
def dataset_with_use(projects, make_person):
    dataset = Dataset.objects.create(title="SMR01", description="-", data_controller="PHS")
    version = DatasetVersion.objects.create(dataset=dataset, version=1, storage_path="x")
    extract = Extract.objects.create(project=projects[1], dataset_version=version, storage_path="y")
    rosa = make_person(Role.RESEARCHER, username="rosa")
    audit.record(
        "job.submitted",
        actor=rosa,
        obj=projects[1],
        project=projects[1],
        details={"extract": extract.pk, "data": "real"},
    )
    # A run on the dummy data reads none of the extract's records: not an access.
    dummy = make_person(Role.RESEARCHER, username="dummy_runner")
    audit.record(
        "job.submitted",
        actor=dummy,
        obj=projects[1],
        project=projects[1],
        details={"extract": extract.pk, "data": "dummy"},
    )
    release(projects[1], [{"name": "rates.csv", "extract_id": extract.pk}], actor=rosa)
    audit.record("job.submitted", actor=rosa, obj=projects[0], project=projects[0])
    return dataset


def test_the_access_report_says_who_used_a_dataset_and_what_left(
    dataset_with_use, signed_in_client
):
    client = signed_in_client(Role.AUDITOR)
    today = date.today().isoformat()
    query = {"dataset": dataset_with_use.pk, "date_from": today, "date_to": today}
    page = client.get("/applications/reports/access/", query)
    assert b"Ran code on the project&#x27;s real extract" in page.content
    assert b"rates.csv" in page.content
    rows = list(
        csv.reader(
            io.StringIO(
                client.get(
                    "/applications/reports/access/", {**query, "format": "csv"}
                ).content.decode()
            )
        )
    )
    assert rows[0] == ["when", "person", "project", "what", "left the haven"]
    assert [(row[1], row[2], row[4]) for row in rows[1:]] == [
        ("rosa", "HK-2026-002", ""),
        ("rosa", "HK-2026-002", "rates.csv"),
    ], "only real-data runs of the project with an extract of this dataset appear"


def test_the_access_report_outside_the_dates_is_empty(dataset_with_use, signed_in_client):
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    page = signed_in_client(Role.DATA_STEWARD).get(
        "/applications/reports/access/",
        {"dataset": dataset_with_use.pk, "date_from": yesterday, "date_to": yesterday},
    )
    assert b"Nobody used this dataset in these dates." in page.content


def test_access_report_dates_in_the_wrong_order_and_unknown_dataset(
    dataset_with_use, signed_in_client
):
    client = signed_in_client(Role.AUDITOR)
    page = client.get(
        "/applications/reports/access/",
        {"dataset": 999, "date_from": "2026-02-01", "date_to": "2026-01-01"},
    )
    assert b"That dataset is not in the catalogue" in page.content
    assert b"The &#x27;to&#x27; date must be on or after the &#x27;from&#x27; date." in page.content


@pytest.mark.parametrize("role", [Role.RESEARCHER, Role.PI, Role.APPROVER, Role.OUTPUT_CHECKER])
def test_only_auditors_and_data_stewards_see_access_reports(signed_in_client, role):
    assert signed_in_client(role).get("/applications/reports/access/").status_code == 403


def test_the_haven_report(projects, signed_in_client, make_person, clear):
    release(projects[0], [{"name": "a.csv"}])
    clear(make_person(Role.RESEARCHER), days=20)
    page = signed_in_client(Role.ADMINISTRATOR).get("/applications/reports/haven/")
    content = page.content.decode()
    assert "<td>Active</td><td>Panel</td><td>2</td>" in content
    assert 'Output files released</dt><dd class="nhsuk-summary-list__value">1<' in content
    assert 'next 60 days</dt><dd class="nhsuk-summary-list__value">1<' in content


@pytest.mark.parametrize("role", [Role.RESEARCHER, Role.PI, Role.OUTPUT_CHECKER])
def test_researchers_do_not_see_the_haven_report(signed_in_client, role):
    assert signed_in_client(role).get("/applications/reports/haven/").status_code == 403
