"""Project access needs a verified, unexpired accreditation and the signed agreement; it stops
by itself on expiry and comes back on renewal."""

from datetime import date, timedelta

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from havenkit.core.roles import Role
from havenkit.people import accreditation
from havenkit.people.models import AgreementSignature
from havenkit.projects import services as projects
from tests.conftest import sign_in
from tests.people.clearance import unclear
from tests.people.helpers import events

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(make_person, clear):
    pi = make_person(Role.RESEARCHER, Role.PI, username="pat")
    pi.email = "pat@example.org"
    pi.save()
    clear(pi)
    researcher = unclear(make_person(Role.RESEARCHER, username="rosa"))
    researcher.email = "rosa@example.org"
    researcher.save()
    return projects.create_active_project(
        reference="HK-0001",
        title="Asthma admissions",
        organisation="University of Edinburgh",
        lay_summary="-",
        public_benefit="-",
        pi=pi,
        researchers=[researcher],
        datasets_used="SMR01",
        start_date=date.today() - timedelta(days=1),
        end_date=date.today() + timedelta(days=700),
        approved_by=make_person(Role.APPROVER),
    )


def researcher_of(project):
    return project.memberships.get(project_role="researcher").user


def test_a_member_without_accreditation_has_no_access(project):
    assert not project.has_member(researcher_of(project))
    assert project.has_member(project.pi)


def test_an_unverified_record_gives_no_access(project):
    rosa = researcher_of(project)
    accreditation.record_training(
        rosa,
        course="Safe Researcher Training",
        provider="UK Data Service",
        level="Standard",
        passed_on=date.today(),
        expires_on=date.today() + timedelta(days=365),
        evidence=SimpleUploadedFile("cert.pdf", b"%PDF-1.4"),
    )
    accreditation.sign_agreement(rosa)
    assert not project.has_member(rosa)
    assert "no verified, unexpired accreditation" in " ".join(accreditation.access_blockers(rosa))


def test_an_unsigned_agreement_gives_no_access(project, clear):
    rosa = researcher_of(project)
    clear(rosa)
    AgreementSignature.objects.filter(user=rosa).delete()
    assert not project.has_member(rosa)
    assert accreditation.access_blockers(rosa) == [
        f"They have not signed version {accreditation.USER_AGREEMENT_VERSION} of the agreement."
    ]


def test_access_stops_the_day_after_expiry_and_returns_on_renewal(project, clear, clock):
    rosa = researcher_of(project)
    clear(rosa, days=10)
    assert project.has_member(rosa)
    assert list(projects.projects_for_member(rosa)) == [project]
    clock.advance(10)
    assert project.has_member(rosa), "the expiry date itself is still covered"
    clock.advance(1)
    assert not project.has_member(rosa)
    assert list(projects.projects_for_member(rosa)) == []
    assert rosa.pk not in projects.member_user_ids(project)
    clear(rosa, days=365)
    assert project.has_member(rosa)


def test_expiry_closes_the_workspace_page(project, clear, clock, client):
    rosa = researcher_of(project)
    clear(rosa, days=3)
    sign_in(client, rosa)
    assert client.get(f"/projects/{project.pk}/").status_code == 200
    clock.advance(4)
    sign_in(client, rosa)
    response = client.get(f"/projects/{project.pk}/")
    assert response.status_code == 403
    assert "verified, unexpired accreditation" in response.content.decode()
    assert events("access.denied")[-1].actor_username == "rosa"


def test_a_non_member_is_told_only_that_the_workspace_is_for_members(project, make_person, client):
    sign_in(client, make_person(Role.RESEARCHER, username="outsider"))
    response = client.get(f"/projects/{project.pk}/")
    assert response.status_code == 403
    assert "Only members of this project can see its workspace." in response.content.decode()


def test_your_accreditation_speaks_to_you_about_missing_training(project, client):
    rosa = researcher_of(project)
    sign_in(client, rosa)
    page = client.get("/account/accreditation/").content.decode()
    assert "You have no verified accreditation: record your training below" in page
    assert "You have not signed version" in page
    assert "They have" not in page


def test_your_accreditation_says_when_it_expired(project, clear, clock, client):
    rosa = researcher_of(project)
    record = clear(rosa, days=3)
    clock.advance(4)
    sign_in(client, rosa)
    page = client.get("/account/accreditation/").content.decode()
    assert f"Your accreditation expired on {record.expires_on:%d %B %Y}" in page
    assert "They have" not in page


def test_evidence_is_stored_under_havenkit_home(settings, make_person):
    person = make_person(Role.RESEARCHER)
    record = accreditation.record_training(
        person,
        course="Safe Researcher Training",
        provider="UK Data Service",
        level="Standard",
        passed_on=date.today(),
        expires_on=date.today() + timedelta(days=365),
        evidence=SimpleUploadedFile("../../certificate.pdf", b"%PDF-1.4 evidence"),
    )
    stored = accreditation.evidence_file(record)
    assert stored.is_relative_to(settings.HAVENKIT_HOME / "accreditation")
    assert stored.read_bytes() == b"%PDF-1.4 evidence"
    assert events("accreditation.recorded")[-1].object_id == str(record.pk)


@pytest.mark.parametrize(
    ("passed", "expires", "message"),
    [
        (0, 0, "The expiry date must be after the date the course was passed."),
        (0, -5, "The expiry date must be after the date the course was passed."),
        (3, 400, "The date passed cannot be in the future."),
    ],
)
def test_dates_in_the_wrong_order_are_refused(make_person, passed, expires, message):
    person = unclear(make_person(Role.RESEARCHER))
    with pytest.raises(accreditation.AccreditationError, match=message):
        accreditation.record_training(
            person,
            course="Safe Researcher Training",
            provider="UK Data Service",
            level="Standard",
            passed_on=date.today() + timedelta(days=passed),
            expires_on=date.today() + timedelta(days=expires),
            evidence=SimpleUploadedFile("cert.pdf", b"x"),
        )
    assert not person.accreditations.exists()


def test_the_daily_check_tells_the_person_and_their_pi_thirty_days_ahead(project, clear, clock):
    rosa = researcher_of(project)
    clear(rosa, days=45)
    call_command("people", "notify-expiring")
    assert mail.outbox == []
    clock.advance(15)
    call_command("people", "notify-expiring")
    assert len(mail.outbox) == 1
    assert set(mail.outbox[0].to) == {"rosa@example.org", "pat@example.org"}
    assert "expires on" in mail.outbox[0].body
    notice = events("accreditation.expiry_notice_sent")[-1]
    assert notice.details["told"] == ["rosa", "pat"]
    clock.advance(1)
    call_command("people", "notify-expiring")
    assert len(mail.outbox) == 1, "each notice goes out once"


def test_a_renewed_person_gets_no_notice(project, clear, clock):
    rosa = researcher_of(project)
    clear(rosa, days=20)
    clear(rosa, days=400)
    call_command("people", "notify-expiring")
    assert mail.outbox == []


def test_the_daily_check_records_each_expiry_once(project, clear, clock):
    rosa = researcher_of(project)
    clear(rosa, days=5)
    clock.advance(6)
    call_command("people", "notify-expiring")
    call_command("people", "notify-expiring")
    expired = events("accreditation.expired")
    assert len(expired) == 1
    assert expired[0].details == {
        "username": "rosa",
        "expired_after": (clock.today() - timedelta(days=1)).isoformat(),
        "still_accredited": False,
    }
