"""A data steward builds a project's extract in the portal and reads its risk report."""

import pytest
from django.urls import reverse

from havenkit.core.models import AuditEvent
from havenkit.core.roles import Role
from havenkit.data import services
from tests.data.test_extract_recipes import DECLARATIONS, PEOPLE
from tests.data.test_extracts import new_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def setting(make_person):
    version = services.create_dataset_version(
        "View cohort",
        "Six people.",
        "A controller",
        {"people": PEOPLE},
        make_person(Role.APPROVER),
        declarations=DECLARATIONS,
    )
    approved = {"people": ["chi", "sex", "postcode"]}
    return new_project(make_person, "HK-V-1", [version], approved), version


def test_steward_builds_an_extract_with_generalisation(signed_in_client, setting):
    project, version = setting
    steward = signed_in_client(Role.DATA_STEWARD)
    page = reverse("data:project_extract", args=[project.pk])
    assert "people.postcode" in steward.get(page, {"dataset_version": version.pk}).content.decode()
    response = steward.post(
        page,
        {
            "dataset_version": version.pk,
            "k_threshold": 3,
            "include:people.chi": "on",
            "include:people.sex": "on",
            "include:people.postcode": "on",
            "generalise:people.postcode": "district",
        },
    )
    assert response.status_code == 302
    extract = services.current_extract(project)
    assert extract.recipe["variables"] == {"people": ["chi", "sex", "postcode"]}
    assert extract.tables["people"]["disclosure_risk"]["smallest_group"] == 2
    html = steward.get(page).content.decode()
    assert "Disclosure risk of extract 1" in html
    assert "Generalise further" in html

    steward.post(reverse("data:rebuild_extract", args=[project.pk]))
    assert services.current_extract(project).version == 2
    assert AuditEvent.objects.filter(action="extract.created").count() == 2


def test_choosing_nothing_is_refused_and_builds_nothing(signed_in_client, setting):
    project, version = setting
    steward = signed_in_client(Role.DATA_STEWARD)
    response = steward.post(
        reverse("data:project_extract", args=[project.pk]),
        {"dataset_version": version.pk, "k_threshold": 10},
    )
    assert "Choose at least one variable." in response.content.decode()
    assert services.current_extract(project) is None


def test_only_data_stewards_build_extracts(signed_in_client, setting):
    project, _version = setting
    for role in (Role.APPROVER, Role.RESEARCHER, Role.OUTPUT_CHECKER):
        client = signed_in_client(role)
        assert client.get(reverse("data:extracts")).status_code == 403
        assert client.get(reverse("data:project_extract", args=[project.pk])).status_code == 403
    assert signed_in_client(Role.DATA_STEWARD).get(reverse("data:extracts")).status_code == 200
