"""An extract and its disclosure-risk and linkage reports are stored together or not at all:
no extract is ever released without its reports, and a failed build leaves no folder."""

import pytest

from havenkit.core.models import AuditEvent
from havenkit.core.roles import Role
from havenkit.data import services
from havenkit.data.models import Extract
from tests.data.test_extracts import ADMISSIONS, PEOPLE, new_project

CHOSEN = {"people": ["chi", "sex", "postcode_district"], "admissions": ["chi", "icd10"]}


@pytest.fixture
def setting(make_person):
    approver = make_person(Role.APPROVER)
    cohort = services.create_dataset_version(
        "Reports cohort", "Three people.", "A controller", {"people": PEOPLE}, approver
    )
    admissions = services.create_dataset_version(
        "Reports admissions",
        "Their admissions.",
        "A controller",
        {"admissions": ADMISSIONS},
        approver,
    )
    project = new_project(make_person, "HK-R-1", [cohort, admissions], CHOSEN)
    return project, [cohort, admissions]


def extract_folders(project) -> list[str]:
    folder = services.project_extracts_folder(project)
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


@pytest.mark.django_db
def test_the_reports_are_in_the_extract_as_it_is_created(make_person, setting):
    project, versions = setting
    extract = services.build_linked_extract(
        project,
        versions,
        CHOSEN,
        make_person(Role.DATA_STEWARD),
        quasi_identifiers={"people": ["sex", "postcode_district"]},
        k_threshold=2,
    )

    stored = Extract.objects.get(pk=extract.pk)
    risk = stored.tables["people"]["disclosure_risk"]
    assert (risk["records"], risk["unique_records"], risk["smallest_group"]) == (3, 3, 1)
    assert [entry["dataset"] for entry in stored.linkage] == [
        "Reports cohort",
        "Reports admissions",
    ]


@pytest.mark.django_db
def test_a_risk_report_that_cannot_be_made_leaves_no_extract(make_person, setting):
    project, versions = setting

    with pytest.raises(services.ExtractRequestError, match=r"people.*not columns: age"):
        services.build_linked_extract(
            project,
            versions,
            CHOSEN,
            make_person(Role.DATA_STEWARD),
            quasi_identifiers={"people": ["sex", "age"]},
        )

    assert not Extract.objects.exists()
    assert not AuditEvent.objects.filter(action="extract.created").exists()
    assert extract_folders(project) == []
