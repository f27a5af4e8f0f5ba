"""The audit log names projects by the HK- reference people know, and is filtered by it."""

import pytest

from havenkit.core import audit
from havenkit.core.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def auditor(haven, signed_in_client):
    audit.record("job.submitted", project=haven.project, details={"code": "a.py"})
    audit.record("job.submitted", project=999_999)
    return signed_in_client(Role.AUDITOR)


def test_the_project_column_shows_the_reference(haven, auditor):
    page = auditor.get("/audit/", {"action": "job.submitted"}).content.decode()
    assert f'<td class="nhsuk-table__cell">{haven.project.reference}</td>' in page
    assert f'<td class="nhsuk-table__cell">{haven.project.pk}</td>' not in page
    assert '<td class="nhsuk-table__cell">999999</td>' in page, "an unknown id is still shown"


@pytest.mark.parametrize("given", ["reference", "lower-case reference", "number"])
def test_the_filter_takes_the_reference_or_the_number(haven, auditor, given):
    value = {
        "reference": haven.project.reference,
        "lower-case reference": haven.project.reference.lower(),
        "number": str(haven.project.pk),
    }[given]
    page = auditor.get("/audit/", {"project": value})
    events = list(page.context["page"])
    assert events
    assert {event.project_id for event in events} == {str(haven.project.pk)}


def test_an_unknown_reference_is_explained(auditor):
    page = auditor.get("/audit/", {"project": "HK-1999-404"})
    assert b"No project has the reference HK-1999-404" in page.content
    assert list(page.context["page"]) == []
