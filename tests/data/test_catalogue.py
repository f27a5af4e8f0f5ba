"""The catalogue: ranked search, public pages with rounded counts and no values, DCAT JSON-LD."""

import datetime

import pyarrow as pa
import pytest
from django.test import Client
from django.urls import reverse

from havenkit.core.roles import Role
from havenkit.data import services
from havenkit.data.catalogue import VariableDeclaration, rounded_count, search_datasets

pytestmark = pytest.mark.django_db

SECRET_POSTCODE = "ZZ99"


@pytest.fixture
def datasets(make_person):
    approver = make_person(Role.APPROVER)
    admissions = services.create_dataset_version(
        "Hospital admissions",
        "Every inpatient stay in Scotland.",
        "Public Health Scotland",
        {"stays": pa.table({"chi": ["0211165794"] * 1234, "postcode": [SECRET_POSTCODE] * 1234})},
        approved_by=approver,
        declarations={
            "stays": [
                VariableDeclaration("chi", "chi", "CHI number", is_identifier=True),
                VariableDeclaration("postcode", "string", "Postcode district"),
            ]
        },
        dataset_details={
            "coverage_start": datetime.date(2010, 1, 1),
            "update_schedule": "Monthly",
            "classification": "Personal data (pseudonymised)",
        },
    )
    prescribing = services.create_dataset_version(
        "Community prescribing",
        "Dispensed prescriptions, which follow hospital admissions in many studies.",
        "NHS National Services Scotland",
        {"items": pa.table({"bnf_chapter": [2, 4, None, 2]})},
        approved_by=approver,
        dataset_details={"classification": "Aggregate"},
    )
    births = services.create_dataset_version(
        "Births",
        "Live births.",
        "National Records of Scotland",
        {"births": pa.table({"admissions_before_birth": [1, 2, 3]})},
        approved_by=approver,
    )
    return admissions, prescribing, births


def test_title_hits_rank_above_description_and_variable_hits(datasets):
    titles = [dataset.title for dataset in search_datasets("admissions")]
    assert titles == ["Hospital admissions", "Community prescribing", "Births"]


def test_every_word_must_match_and_filters_apply(datasets):
    assert [d.title for d in search_datasets("hospital stay")] == ["Hospital admissions"]
    assert not search_datasets("hospital unicorn").exists()
    assert [d.title for d in search_datasets("", classification="Aggregate")] == [
        "Community prescribing"
    ]


def test_variables_record_types_and_missingness(datasets):
    _admissions, prescribing, _births = datasets
    [chapter] = prescribing.variables.all()
    assert (chapter.name, chapter.type, chapter.missing_fraction) == (
        "bnf_chapter",
        "integer",
        0.25,
    )


def test_public_counts_are_rounded_and_small_ones_hidden():
    assert rounded_count(1234) == "about 1,230"
    assert rounded_count(9) == "fewer than 10"
    assert rounded_count(15) == "about 20"


def test_public_pages_show_descriptions_and_rounded_counts_never_values(datasets):
    anonymous = Client()
    listing = anonymous.get(reverse("catalogue:list"), {"q": "admissions"})
    assert listing.status_code == 200
    assert "Hospital admissions" in listing.content.decode()
    page = anonymous.get(reverse("catalogue:dataset", args=[datasets[0].dataset.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "about 1,230 rows" in html
    assert "Postcode district" in html
    assert SECRET_POSTCODE not in html
    assert "0211165794" not in html


def test_dcat_json_ld_lists_every_dataset(datasets):
    response = Client().get(reverse("catalogue:dcat"))
    document = response.json()
    assert response["Content-Type"] == "application/ld+json"
    assert document["@type"] == "dcat:Catalog"
    entries = {entry["dct:title"]: entry for entry in document["dcat:dataset"]}
    assert set(entries) == {"Hospital admissions", "Community prescribing", "Births"}
    admissions = entries["Hospital admissions"]
    assert admissions["@type"] == "dcat:Dataset"
    assert admissions["dct:temporal"]["dcat:startDate"] == "2010-01-01"
    assert admissions["havenkit:tables"][0]["havenkit:roundedRows"] == "about 1,230"
    assert SECRET_POSTCODE not in response.content.decode()
