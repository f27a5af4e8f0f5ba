"""A PI asks to add or remove members; an approver decides; the request says what stands in
the way of adding someone."""

from datetime import date, timedelta

import pytest

from havenkit.core import permissions
from havenkit.core.models import AuditEvent, Outcome
from havenkit.core.roles import Role
from havenkit.projects import membership, services
from havenkit.projects.models import MembershipRequest, RequestState
from tests.people.clearance import unclear

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(make_person, clear):
    pi = make_person(Role.RESEARCHER, Role.PI, username="pat")
    clear(pi)
    return services.create_active_project(
        reference="HK-0001",
        title="Asthma admissions",
        organisation="University of Edinburgh",
        lay_summary="-",
        public_benefit="-",
        pi=pi,
        researchers=[],
        datasets_used="SMR01",
        start_date=date.today(),
        end_date=date.today() + timedelta(days=200),
        approved_by=make_person(Role.APPROVER),
    )


def in_days(days: int) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


def ask(client, project, username: str, change: str = "add", ends_on: str = "", **extra):
    return client.post(
        f"/applications/projects/{project.pk}/members/",
        {"username": username, "change": change, "ends_on": ends_on, "reason": "Analyst", **extra},
    )


def request_add(project, person, ends_on: date | None = None) -> MembershipRequest:
    return membership.request_change(
        project,
        person=person,
        change="add",
        ends_on=ends_on or date.today(),
        reason="Analyst",
        requested_by=project.pi,
    )


def last_refusal(action: str) -> AuditEvent:
    return AuditEvent.objects.filter(action=action, outcome=Outcome.FAILURE).latest("id")


def test_adding_a_cleared_person_end_to_end(project, make_person, clear, signed_in_client):
    rosa = make_person(Role.RESEARCHER, username="rosa")
    clear(rosa)
    pi_client = signed_in_client(person=project.pi)
    response = ask(pi_client, project, "rosa", ends_on=in_days(100))
    assert response.status_code == 302
    request = MembershipRequest.objects.get()
    assert not project.has_member(rosa)

    approver = signed_in_client(Role.APPROVER)
    queue = approver.get("/applications/membership-requests/")
    assert b"Add Test Rosa (rosa) on HK-0001" in queue.content
    approver.post(f"/applications/membership-requests/{request.pk}/decide", {"decision": "approve"})
    request.refresh_from_db()
    assert request.state == RequestState.APPROVED
    assert project.has_member(rosa)
    assert project.memberships.get(user=rosa).ends_on == date.today() + timedelta(days=100)
    assert AuditEvent.objects.filter(action="membership.added", project_id=str(project.pk)).count()


def test_the_request_says_why_someone_cannot_be_added(project, make_person, signed_in_client):
    unclear(make_person(Role.RESEARCHER, username="rosa"))
    pi_client = signed_in_client(person=project.pi)
    ask(pi_client, project, "rosa", ends_on=in_days(100))
    page = pi_client.get(f"/applications/projects/{project.pk}/members/")
    assert b"no verified, unexpired accreditation" in page.content
    assert b"have not signed version" in page.content

    request = MembershipRequest.objects.get()
    approver = signed_in_client(Role.APPROVER)
    response = approver.post(
        f"/applications/membership-requests/{request.pk}/decide", {"decision": "approve"}
    )
    assert response.status_code == 400
    assert b"Test Rosa cannot be added yet" in response.content
    request.refresh_from_db()
    assert request.state == RequestState.PENDING
    assert last_refusal("membership.decided").details["username"] == "rosa"


def test_an_unverified_identity_is_named(project, make_person, clear):
    rosa = make_person(Role.RESEARCHER, username="rosa")
    clear(rosa)
    rosa.identity_status = "awaiting_check"
    rosa.save()
    request = membership.request_change(
        project,
        person=rosa,
        change="add",
        ends_on=date.today() + timedelta(days=10),
        reason="-",
        requested_by=project.pi,
    )
    assert membership.blockers(request) == ["Test Rosa's identity is not verified."]


@pytest.mark.parametrize(
    ("ends_in", "message"),
    [
        (201, b"A membership cannot end after the project does"),
        (-1, b"The membership end date is in the past."),
        (150, b"The end date is after Test Rosa&#x27;s accreditation expires"),
    ],
)
def test_bad_end_dates_are_refused_and_audited(
    project, make_person, clear, signed_in_client, ends_in, message
):
    rosa = unclear(make_person(Role.RESEARCHER, username="rosa"))
    clear(rosa, days=120)
    response = ask(signed_in_client(person=project.pi), project, "rosa", ends_on=in_days(ends_in))
    assert response.status_code == 400
    assert message in response.content
    assert not MembershipRequest.objects.exists()
    assert last_refusal("membership.requested").details["username"] == "rosa"


def test_an_unknown_person_and_a_missing_date_are_explained(project, signed_in_client):
    client = signed_in_client(person=project.pi)
    assert b"There is nobody with the username" in ask(client, project, "ghost", "remove").content
    assert b"Enter the date the membership ends." in ask(client, project, "pat").content


def test_a_second_request_about_the_same_person_is_refused(project, make_person, clear):
    rosa = make_person(Role.RESEARCHER, username="rosa")
    clear(rosa)
    first = {"person": rosa, "change": "add", "ends_on": date.today(), "reason": "-"}
    membership.request_change(project, requested_by=project.pi, **first)
    with pytest.raises(membership.MembershipError, match="already a request about Test Rosa"):
        membership.request_change(project, requested_by=project.pi, **first)


def test_removing_a_member_ends_access_today(project, make_person, clear, signed_in_client):
    rosa = make_person(Role.RESEARCHER, username="rosa")
    clear(rosa)
    added = request_add(project, rosa)
    approver = make_person(Role.APPROVER)
    membership.decide(added, approve=True, note="", decided_by=approver)
    assert project.has_member(rosa)
    ask(signed_in_client(person=project.pi), project, "rosa", change="remove")
    removal = MembershipRequest.objects.get(state=RequestState.PENDING)
    membership.decide(removal, approve=True, note="", decided_by=approver)
    assert not project.has_member(rosa)
    assert project.memberships.get(user=rosa).ends_on == date.today() - timedelta(days=1)


def test_the_pi_cannot_be_removed(project):
    with pytest.raises(membership.MembershipError, match="cannot be removed from their own"):
        membership.request_change(
            project,
            person=project.pi,
            change="remove",
            ends_on=None,
            reason="-",
            requested_by=project.pi,
        )


def test_refusing_needs_a_note(project, make_person, clear):
    rosa = make_person(Role.RESEARCHER, username="rosa")
    request = request_add(project, rosa)
    approver = make_person(Role.APPROVER)
    with pytest.raises(membership.MembershipError, match="Say why"):
        membership.decide(request, approve=False, note=" ", decided_by=approver)
    membership.decide(request, approve=False, note="Not on the protocol", decided_by=approver)
    request.refresh_from_db()
    assert (request.state, request.decision_note) == (RequestState.REFUSED, "Not on the protocol")
    with pytest.raises(membership.MembershipError, match="already refused"):
        membership.decide(request, approve=True, note="", decided_by=approver)


@pytest.mark.parametrize("role", [r for r in Role if r != Role.PI])
def test_only_the_projects_pi_asks_for_changes(project, signed_in_client, role):
    response = signed_in_client(role).get(f"/applications/projects/{project.pk}/members/")
    assert response.status_code == 403


def test_another_pi_cannot_change_this_project(project, signed_in_client):
    response = signed_in_client(Role.PI).get(f"/applications/projects/{project.pk}/members/")
    assert b"Only this project&#x27;s principal investigator" in response.content


@pytest.mark.parametrize("role", [r for r in Role if r != Role.APPROVER])
def test_only_approvers_see_the_queue(signed_in_client, role):
    assert signed_in_client(role).get("/applications/membership-requests/").status_code == 403


def test_an_approver_cannot_decide_a_request_about_themselves(project, make_person, clear):
    approver = make_person(Role.APPROVER, Role.RESEARCHER, username="alex")
    clear(approver)
    request = request_add(project, approver)
    assert not permissions.can(approver, "decide_membership_request", request)


def test_an_unknown_username_is_refused_on_its_field_and_audited(project, signed_in_client):
    client = signed_in_client(person=project.pi)
    response = ask(client, project, "ghost", ends_on=in_days(30))
    assert response.status_code == 400
    assert b'<a href="#id_username">There is nobody' in response.content
    assert b"There is nobody with the username &#x27;ghost&#x27;" in response.content
    refusal = last_refusal("membership.requested")
    assert (refusal.details["username"], refusal.actor_username) == ("ghost", "pat")
    assert not MembershipRequest.objects.exists()


def test_the_pi_finds_the_members_page_from_the_workspace(project, signed_in_client):
    members = f"/applications/projects/{project.pk}/members/".encode()
    workspace = signed_in_client(person=project.pi).get(f"/projects/{project.pk}/")
    assert members in workspace.content


def test_a_researcher_sees_no_link_to_change_members(project, make_person, clear, client):
    from tests.conftest import sign_in

    rosa = make_person(Role.RESEARCHER, username="rosa")
    clear(rosa)
    membership.decide(
        request_add(project, rosa, ends_on=date.today() + timedelta(days=30)),
        approve=True,
        note="",
        decided_by=make_person(Role.APPROVER),
    )
    workspace = sign_in(client, rosa).get(f"/projects/{project.pk}/")
    assert workspace.status_code == 200
    assert b"/members/" not in workspace.content
