"""Self-registration waits for an identity check; people record training, administrators verify."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from havenkit.core.models import Outcome
from havenkit.core.roles import Role
from havenkit.people import accreditation
from havenkit.people.models import Accreditation, IdentityStatus, User
from tests.people.clearance import unclear
from tests.people.helpers import events, give_password

pytestmark = pytest.mark.django_db

NEW_ACCOUNT = {
    "full_name": "Nadia Newcomer",
    "email": "nadia@example.org",
    "organisation": "University of Glasgow",
    "job_title": "Research Fellow",
    "phone": "0141 000 0000",
    "username": "nadia",
    "password": "a long passphrase of her own",
}

TRAINING = {
    "course": "Safe Researcher Training",
    "provider": "UK Data Service",
    "level": "Standard",
    "passed_on": "2026-01-10",
    "expires_on": "2029-01-10",
}


def register(client: Client, **changes: str):
    return client.post("/login/new-account/", {**NEW_ACCOUNT, **changes})


def test_a_new_account_waits_for_an_identity_check_and_cannot_sign_in(client):
    response = register(client)
    assert b"awaiting an identity check" in response.content
    nadia = User.objects.get(username="nadia")
    assert nadia.identity_status == IdentityStatus.AWAITING_CHECK
    assert not nadia.is_active
    assert (nadia.organisation, nadia.job_title, nadia.phone) == (
        "University of Glasgow",
        "Research Fellow",
        "0141 000 0000",
    )
    assert events("person.registered")[-1].object_id == str(nadia.pk)
    give_password(client, "nadia", NEW_ACCOUNT["password"])
    assert "_auth_user_id" not in client.session


def test_a_taken_username_is_refused_with_a_message(client, make_person):
    make_person(Role.RESEARCHER, username="nadia")
    response = register(client, username="NADIA")
    assert b"That username is taken" in response.content
    assert User.objects.filter(username__iexact="nadia").count() == 1


def test_a_missing_organisation_is_named(client):
    response = register(client, organisation="")
    assert b"Enter the organisation you work for." in response.content
    assert not User.objects.filter(username="nadia").exists()


def test_an_administrator_verifies_identity_against_evidence(client, signed_in_client):
    register(client)
    admin = signed_in_client(Role.ADMINISTRATOR)
    nadia = User.objects.get(username="nadia")
    page = admin.get("/people/checks/")
    assert b"Nadia Newcomer" in page.content
    refused = admin.post(f"/people/{nadia.pk}/verify", {"evidence": ""})
    assert refused.status_code == 400
    assert b"Say what evidence of identity you checked." in refused.content
    nadia.refresh_from_db()
    assert not nadia.is_active
    admin.post(f"/people/{nadia.pk}/verify", {"evidence": "Staff card and passport"})
    nadia.refresh_from_db()
    assert nadia.is_active
    assert nadia.identity_status == IdentityStatus.VERIFIED
    assert nadia.has_role(Role.RESEARCHER)
    event = events("person.identity_verified")[-1]
    assert event.details["evidence"] == "Staff card and passport"
    assert event.actor_username != "nadia"


@pytest.mark.parametrize("role", [r for r in Role if r != Role.ADMINISTRATOR])
def test_only_administrators_open_the_checks(signed_in_client, role):
    response = signed_in_client(role).get("/people/checks/")
    assert response.status_code == 403
    assert b"administrator role" in response.content


def test_a_person_records_training_and_an_administrator_verifies_it(make_person, signed_in_client):
    rosa = unclear(make_person(Role.RESEARCHER))
    client = signed_in_client(person=rosa)
    certificate = SimpleUploadedFile("certificate.pdf", b"%PDF-1.4 certificate")
    client.post("/account/accreditation/", {**TRAINING, "evidence": certificate})
    record = Accreditation.objects.get(user=rosa)
    assert not record.is_verified
    page = client.get("/account/accreditation/")
    assert b"Awaiting verification" in page.content
    assert b"Your training record is waiting for an administrator to verify it." in page.content
    assert client.get(f"/account/accreditation/{record.pk}/evidence").getvalue() == (
        b"%PDF-1.4 certificate"
    )

    admin = signed_in_client(Role.ADMINISTRATOR)
    assert b"certificate.pdf" in admin.get("/people/checks/").content
    admin.post(f"/people/accreditation/{record.pk}/verify")
    record.refresh_from_db()
    assert record.is_verified
    assert events("accreditation.verified")[-1].object_id == str(record.pk)

    client.post("/account/agreement/")
    assert rosa.agreement_signatures.get().version == accreditation.USER_AGREEMENT_VERSION
    assert (
        b"You are cleared to work in your projects" in client.get("/account/accreditation/").content
    )


def test_training_with_dates_in_the_wrong_order_is_refused_and_audited(
    make_person, signed_in_client
):
    client = signed_in_client(person=unclear(make_person(Role.RESEARCHER)))
    response = client.post(
        "/account/accreditation/",
        {
            **TRAINING,
            "expires_on": "2025-01-01",
            "evidence": SimpleUploadedFile("certificate.pdf", b"x"),
        },
    )
    assert b"The expiry date must be after the date the course was passed." in response.content
    assert not Accreditation.objects.exists()
    assert events("accreditation.recorded")[-1].outcome == Outcome.FAILURE


def test_a_badly_typed_date_is_explained(signed_in_client):
    client = signed_in_client(Role.RESEARCHER)
    response = client.post(
        "/account/accreditation/",
        {**TRAINING, "passed_on": "10/01/2026", "evidence": SimpleUploadedFile("c.pdf", b"x")},
    )
    assert b"Enter the date passed as a date like 2026-03-31." in response.content


def test_an_administrator_cannot_verify_their_own_training(make_person, signed_in_client, clear):
    admin = make_person(Role.ADMINISTRATOR)
    client = signed_in_client(person=admin)
    record = accreditation.record_training(
        admin,
        course="Safe Researcher Training",
        provider="UK Data Service",
        level="Standard",
        passed_on=accreditation.timezone.localdate(),
        expires_on=accreditation.timezone.localdate().replace(year=2099),
        evidence=SimpleUploadedFile("c.pdf", b"x"),
    )
    response = client.post(f"/people/accreditation/{record.pk}/verify")
    assert response.status_code == 403
    assert b"You cannot verify your own training record" in response.content
    record.refresh_from_db()
    assert not record.is_verified


def test_others_cannot_read_a_persons_certificate(make_person, signed_in_client, clear):
    rosa = make_person(Role.RESEARCHER)
    record = clear(rosa)
    nosy = signed_in_client(Role.RESEARCHER, Role.PI)
    assert nosy.get(f"/account/accreditation/{record.pk}/evidence").status_code == 403
