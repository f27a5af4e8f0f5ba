"""An application from draft to active: the stepped form, triage, fast track and panel review,
returns with questions, and every refusal with its message."""

from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from havenkit.core.models import AuditEvent, Outcome
from havenkit.core.roles import Role
from havenkit.data.models import Dataset, DatasetVersion, Variable
from havenkit.projects import applications, services
from havenkit.projects.models import Project, ProjectStatus, Track
from havenkit.projects.variables import variable_id
from tests.people.clearance import unclear

pytestmark = pytest.mark.django_db

CONTROLLER = "Public Health Scotland"


def add_dataset(title: str, tables: dict[str, list[str]]) -> Dataset:
    dataset = Dataset.objects.create(title=title, description="-", data_controller=CONTROLLER)
    DatasetVersion.objects.create(
        dataset=dataset,
        version=1,
        storage_path=f"datasets/{title}/1",
        tables={name: {"rows": 10, "columns": columns} for name, columns in tables.items()},
    )
    return dataset


@pytest.fixture
def smr01():
    return add_dataset("SMR01", {"admissions": ["chi", "age", "admitted_on"]})


@pytest.fixture
def prescribing():
    return add_dataset("Prescribing", {"items": ["chi", "drug"]})


@pytest.fixture
def applicant(make_person, clear):
    person = make_person(Role.RESEARCHER, Role.PI, username="priya")
    person.organisation = "University of Dundee"
    person.save()
    clear(person)
    return person


def picks(datasets, names) -> list[str]:
    """The stored names of "table.column" ``names``, each from the one dataset with the table."""
    picked = []
    for name in names:
        table = name.partition(".")[0]
        [dataset] = [d for d in datasets if table in d.versions.first().tables]
        picked.append(variable_id(dataset.pk, name))
    return picked


def fill(project, by, datasets, variables, *, linkage="", ethics="REC 26/0001", team=()):
    """Every step filled in; ``variables`` as "table.column", see :func:`picks`."""
    variables = picks(datasets, variables)
    answers = {
        1: {
            "title": "Statins and stroke",
            "lay_summary": "Do statins prevent strokes?",
            "public_benefit": "Better prescribing.",
            "purpose": "Cohort study.",
        },
        2: {"datasets": datasets, "variables": variables, "linkage_wanted": linkage},
        3: {
            "outputs_expected": "Tables of rates.",
            "legal_basis": "UK GDPR 6(1)(e), 9(2)(j)",
            "ethics_reference": ethics,
            "data_controller": CONTROLLER,
            "funder": "CSO",
        },
        4: {
            "organisation": "University of Dundee",
            "team": list(team),
            "start_date": date.today(),
            "end_date": date.today() + timedelta(days=365),
        },
    }
    for step, data in answers.items():
        applications.save_step(project, step, data, by=by)
    return project


def precedent(make_person, datasets, variables=()):
    project = services.create_active_project(
        reference="HK-2025-001",
        title="Earlier study",
        organisation="University of Dundee",
        lay_summary="-",
        public_benefit="-",
        pi=make_person(Role.PI),
        researchers=[],
        datasets_used="-",
        start_date=date.today(),
        end_date=date.today() + timedelta(days=30),
        approved_by=make_person(Role.APPROVER),
    )
    project.datasets.set(datasets)
    project.variables = picks(datasets, variables)
    project.data_controller = CONTROLLER
    project.save()
    return project


def refusals(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, outcome=Outcome.FAILURE))


# The stepped form.


def test_each_step_is_saved_as_a_draft(applicant, smr01, signed_in_client):
    client = signed_in_client(person=applicant)
    response = client.post("/applications/new")
    project = Project.objects.get(pi=applicant)
    assert response.url == f"/applications/{project.pk}/step/1/"
    assert project.status == ProjectStatus.DRAFT
    response = client.post(
        f"/applications/{project.pk}/step/1/",
        {"title": "Statins", "lay_summary": "-", "public_benefit": "-", "purpose": "-"},
    )
    assert response.url == f"/applications/{project.pk}/step/2/"
    project.refresh_from_db()
    assert (project.title, project.steps_done) == ("Statins", 1)
    age = variable_id(smr01.pk, "admissions.age")
    client.post(
        f"/applications/{project.pk}/step/2/", {"datasets": [smr01.pk], "variables": [age, age]}
    )
    project.refresh_from_db()
    assert list(project.datasets.all()) == [smr01]
    assert project.variables == [age]
    page = client.get(f"/applications/{project.pk}/step/2/").content.decode()
    assert f'value="{smr01.pk}:admissions.admitted_on">' in page, "the others are offered"
    assert f'value="{age}" checked' in page
    assert AuditEvent.objects.filter(action="application.saved").count() == 2


def test_an_unknown_dataset_is_refused(applicant, signed_in_client):
    client = signed_in_client(person=applicant)
    project = applications.start(applicant)
    response = client.post(
        f"/applications/{project.pk}/step/2/", {"datasets": ["999"], "variables": ["999:a.b"]}
    )
    assert response.status_code == 400
    assert b"Dataset 999 is not in the catalogue" in response.content
    assert not project.datasets.exists()


def test_a_variable_outside_the_chosen_datasets_is_refused(applicant, smr01, signed_in_client):
    client = signed_in_client(person=applicant)
    project = applications.start(applicant)
    response = client.post(
        f"/applications/{project.pk}/step/2/",
        {"datasets": [smr01.pk], "variables": [f"{smr01.pk}:items.drug"]},
    )
    assert response.status_code == 400
    assert (
        f"These variables are not in the chosen datasets: {smr01.pk}:items.drug. Tick "
        "variables only from the lists under the datasets you chose."
    ) in response.content.decode()
    assert refusals("application.saved")[-1].details["step"] == 2
    assert not project.datasets.exists(), "nothing of the step is saved"


def test_dates_in_the_wrong_order_are_refused(applicant, signed_in_client):
    client = signed_in_client(person=applicant)
    project = applications.start(applicant)
    response = client.post(
        f"/applications/{project.pk}/step/4/",
        {"organisation": "Dundee", "start_date": "2027-01-01", "end_date": "2026-12-31"},
    )
    assert b"The end date must be after the start date." in response.content
    project.refresh_from_db()
    assert project.end_date is None


def test_an_unknown_team_member_is_named(applicant, signed_in_client):
    client = signed_in_client(person=applicant)
    project = applications.start(applicant)
    response = client.post(
        f"/applications/{project.pk}/step/4/",
        {
            "organisation": "Dundee",
            "team": "ghost",
            "start_date": "2027-01-01",
            "end_date": "2027-12-31",
        },
    )
    assert b"There is nobody with the username ghost" in response.content


def test_an_incomplete_application_says_what_is_missing(applicant, signed_in_client):
    client = signed_in_client(person=applicant)
    project = applications.start(applicant)
    client.post(f"/applications/{project.pk}/submit", follow=True)
    response = client.get(f"/applications/{project.pk}/check/")
    assert b"Step 2 (Data): give at least one dataset." in response.content
    with pytest.raises(applications.ApplicationError, match="not complete"):
        applications.submit(project, by=applicant)
    project.refresh_from_db()
    assert project.status == ProjectStatus.DRAFT
    assert refusals("application.submitted")


@pytest.mark.parametrize("role", [r for r in Role if r != Role.PI])
def test_only_pis_start_applications(signed_in_client, role):
    assert signed_in_client(role).post("/applications/new").status_code == 403


def test_only_the_applicant_edits_the_draft(applicant, signed_in_client):
    project = applications.start(applicant)
    other_pi = signed_in_client(Role.PI)
    response = other_pi.get(f"/applications/{project.pk}/step/1/")
    assert response.status_code == 403
    assert b"Only the applicant" in response.content


# Triage.


def test_a_precedent_sends_the_application_to_the_fast_track(
    applicant, make_person, smr01, prescribing
):
    precedent(make_person, [smr01, prescribing])
    project = fill(applications.start(applicant), applicant, [smr01], ["admissions.age"])
    applications.submit(project, by=applicant)
    project.refresh_from_db()
    assert project.status == ProjectStatus.FAST_TRACK
    assert project.track == Track.FAST
    assert project.triage_rule == "precedent HK-2025-001: fast track"
    assert project.risk_score == 1
    assert [entry.status for entry in project.timeline.all()] == [
        "draft",
        "submitted",
        "in_triage",
        "fast_track",
    ]
    triaged = AuditEvent.objects.get(action="application.triaged")
    assert triaged.details["rule"] == project.triage_rule


@pytest.mark.parametrize(
    ("variables", "linkage", "rule"),
    [
        (["admissions.chi"], "", "no precedent: panel review"),
        (["admissions.age"], "GP records", "no precedent: panel review"),
    ],
)
def test_new_identifying_variables_or_linkage_go_to_the_panel(
    applicant, make_person, smr01, variables, linkage, rule
):
    precedent(make_person, [smr01], ["admissions.age"])
    project = fill(applications.start(applicant), applicant, [smr01], variables, linkage=linkage)
    applications.submit(project, by=applicant)
    project.refresh_from_db()
    assert (project.status, project.triage_rule) == (ProjectStatus.PANEL_REVIEW, rule)
    assert any("identifying" in r or "linkage" in r for r in project.risk_reasons)


def flag(dataset: Dataset, table: str, name: str, **flags: bool) -> None:
    version = dataset.versions.get()
    Variable.objects.create(dataset_version=version, table=table, name=name, type="string", **flags)


@pytest.mark.parametrize("flags", [{"is_identifier": True}, {"is_quasi_identifier": True}])
def test_a_variable_the_catalogue_flags_sends_the_application_to_the_panel(
    applicant, make_person, smr01, flags
):
    flag(smr01, "admissions", "admitted_on", **flags)
    precedent(make_person, [smr01], ["admissions.age"])
    project = fill(applications.start(applicant), applicant, [smr01], ["admissions.admitted_on"])
    applications.submit(project, by=applicant)
    project.refresh_from_db()
    assert project.status == ProjectStatus.PANEL_REVIEW
    assert "+2: SMR01: admissions.admitted_on is classed as identifying." in project.risk_reasons


def test_a_flag_on_a_withdrawn_version_no_longer_counts(applicant, make_person, smr01):
    flag(smr01, "admissions", "admitted_on", is_identifier=True)
    withdrawn = smr01.versions.get()
    withdrawn.withdrawn_at = timezone.now()
    withdrawn.save()
    DatasetVersion.objects.create(
        dataset=smr01, version=2, storage_path="datasets/SMR01/2", tables=withdrawn.tables
    )
    precedent(make_person, [smr01], ["admissions.age"])
    project = fill(applications.start(applicant), applicant, [smr01], ["admissions.admitted_on"])
    applications.submit(project, by=applicant)
    project.refresh_from_db()
    assert project.track == Track.FAST
    assert not any("identifying" in reason for reason in project.risk_reasons)


def test_a_duplicate_submission_is_refused(applicant, smr01):
    project = fill(applications.start(applicant), applicant, [smr01], ["admissions.age"])
    applications.submit(project, by=applicant)
    with pytest.raises(applications.ApplicationError, match="cannot be submitted twice"):
        applications.submit(project, by=applicant)
    assert project.timeline.filter(status="submitted").count() == 1


# Fast track.


def test_fast_track_from_approval_to_active(applicant, make_person, clear, smr01, signed_in_client):
    precedent(make_person, [smr01])
    rosa = make_person(Role.RESEARCHER, username="rosa")
    clear(rosa)
    newcomer = unclear(make_person(Role.RESEARCHER, username="newcomer"))
    project = fill(
        applications.start(applicant),
        applicant,
        [smr01],
        ["admissions.age"],
        team=[rosa, newcomer],
    )
    applications.submit(project, by=applicant)
    approver = signed_in_client(Role.APPROVER)
    page = approver.get(f"/applications/{project.pk}/")
    assert b"Risk score" in page.content
    approver.post(f"/applications/{project.pk}/decide", {"decision": "approve", "note": ""})
    project.refresh_from_db()
    assert project.status == ProjectStatus.APPROVED
    approver.post(f"/applications/{project.pk}/activate")
    project.refresh_from_db()
    assert project.status == ProjectStatus.ACTIVE
    assert project.is_active
    assert project.has_member(applicant)
    assert project.has_member(rosa)
    assert not project.has_member(newcomer), "an uncleared team member is not let in"
    assert project.datasets_used == "SMR01"
    assert project in services.registered_projects()
    assert applications.expected_days(Track.FAST) == 0


def test_an_applicant_cannot_approve_their_own(applicant, make_person, smr01, signed_in_client):
    precedent(make_person, [smr01])
    applicant.role_grants.create(role=Role.APPROVER)
    project = fill(applications.start(applicant), applicant, [smr01], ["admissions.age"])
    applications.submit(project, by=applicant)
    client = signed_in_client(person=applicant)
    response = client.post(f"/applications/{project.pk}/decide", {"decision": "approve"})
    assert response.status_code == 403
    assert b"You cannot decide an application you made" in response.content
    project.refresh_from_db()
    assert project.status == ProjectStatus.FAST_TRACK
    assert AuditEvent.objects.filter(action="access.denied", actor_username="priya").exists()


def test_rejecting_needs_a_note(applicant, make_person, smr01, signed_in_client):
    precedent(make_person, [smr01])
    project = fill(applications.start(applicant), applicant, [smr01], ["admissions.age"])
    applications.submit(project, by=applicant)
    approver = signed_in_client(Role.APPROVER)
    response = approver.post(
        f"/applications/{project.pk}/decide", {"decision": "reject", "note": ""}, follow=True
    )
    assert b"Say why the application is rejected" in response.content
    project.refresh_from_db()
    assert project.status == ProjectStatus.FAST_TRACK


def test_a_fast_track_decision_on_a_draft_is_refused(applicant, make_person):
    project = applications.start(applicant)
    with pytest.raises(applications.ApplicationError, match="not on the fast track"):
        applications.decide_fast_track(
            project, approve=True, note="", by=make_person(Role.APPROVER)
        )


# Panel review.


def test_a_panel_application_returned_with_a_question_and_resubmitted(
    applicant, make_person, smr01, signed_in_client, settings
):
    settings.HAVENKIT_PANEL_QUORUM = 2
    project = fill(applications.start(applicant), applicant, [smr01], ["admissions.chi"])
    applications.submit(project, by=applicant)
    chair = make_person(Role.APPROVER, username="chair")
    member = make_person(Role.APPROVER, username="member")
    approver = signed_in_client(Role.APPROVER)
    panel = {"members": "chair, member", "chair": "chair"}
    approver.post(f"/applications/{project.pk}/panel", panel)
    assert project.panel_seats.count() == 2

    outsider = signed_in_client(Role.APPROVER)
    vote = {"vote": "approve", "comment": "x"}
    response = outsider.post(f"/applications/{project.pk}/vote", vote)
    assert response.status_code == 403
    assert b"Only members assigned to this application" in response.content

    chair_client = signed_in_client(person=chair)
    member_client = signed_in_client(person=member)
    chair_client.post(f"/applications/{project.pk}/vote", {"vote": "return", "comment": "CHI?"})
    response = chair_client.post(
        f"/applications/{project.pk}/outcome",
        {"outcome": "return", "questions": "Why do you need CHI?"},
        follow=True,
    )
    assert b"The panel needs 2 votes" in response.content
    member_client.post(f"/applications/{project.pk}/vote", {"vote": "return", "comment": "Agree"})
    chair_client.post(
        f"/applications/{project.pk}/outcome",
        {"outcome": "return", "questions": "Why do you need CHI?"},
    )
    project.refresh_from_db()
    assert project.status == ProjectStatus.RETURNED

    applicant_client = signed_in_client(person=applicant)
    response = applicant_client.post(f"/applications/{project.pk}/submit", follow=True)
    assert b"Answer every question" in response.content
    question = project.questions.get()
    applicant_client.post(
        f"/applications/{project.pk}/questions/{question.pk}/answer",
        {"answer": "To link admissions to prescriptions."},
    )
    applicant_client.post(f"/applications/{project.pk}/submit")
    project.refresh_from_db()
    assert project.status == ProjectStatus.PANEL_REVIEW
    assert applications.current_round(project) == 2
    assert list(applications.votes_this_round(project)) == []
    page = applicant_client.get(f"/applications/{project.pk}/")
    assert b"Why do you need CHI?" in page.content
    assert b"To link admissions to prescriptions." in page.content

    for client in (chair_client, member_client):
        client.post(f"/applications/{project.pk}/vote", {"vote": "approve", "comment": "Fine"})
    chair_client.post(f"/applications/{project.pk}/outcome", {"outcome": "approve", "note": "OK"})
    project.refresh_from_db()
    assert project.status == ProjectStatus.APPROVED
    assert [entry.status for entry in project.timeline.all()] == [
        "draft",
        "submitted",
        "in_triage",
        "panel_review",
        "returned",
        "submitted",
        "panel_review",
        "approved",
    ]


def test_a_member_of_the_team_cannot_sit_on_the_panel(applicant, make_person, smr01):
    project = fill(applications.start(applicant), applicant, [smr01], ["admissions.chi"])
    applications.submit(project, by=applicant)
    with pytest.raises(applications.ApplicationError, match="priya applied or is on the team"):
        applications.assign_panel(project, [applicant], applicant, by=make_person(Role.APPROVER))


def test_a_second_vote_in_the_same_round_is_refused(applicant, make_person, smr01):
    project = fill(applications.start(applicant), applicant, [smr01], ["admissions.chi"])
    applications.submit(project, by=applicant)
    chair = make_person(Role.APPROVER)
    applications.assign_panel(project, [chair], chair, by=make_person(Role.APPROVER))
    applications.vote(project, choice="approve", comment="Fine", by=chair)
    with pytest.raises(applications.ApplicationError, match="already voted"):
        applications.vote(project, choice="reject", comment="Changed my mind", by=chair)


def test_only_the_chair_records_the_outcome(applicant, make_person, smr01, signed_in_client):
    project = fill(applications.start(applicant), applicant, [smr01], ["admissions.chi"])
    applications.submit(project, by=applicant)
    chair, member = make_person(Role.APPROVER), make_person(Role.APPROVER)
    applications.assign_panel(project, [chair, member], chair, by=make_person(Role.APPROVER))
    response = signed_in_client(person=member).post(
        f"/applications/{project.pk}/outcome", {"outcome": "approve"}
    )
    assert response.status_code == 403
    assert b"Only the chair" in response.content


def test_the_applicant_sees_the_timeline_but_not_the_voting(applicant, smr01, signed_in_client):
    project = fill(applications.start(applicant), applicant, [smr01], ["admissions.chi"])
    applications.submit(project, by=applicant)
    page = signed_in_client(person=applicant).get(f"/applications/{project.pk}/")
    assert b"Timeline" in page.content
    assert b"the panel" in page.content
    assert b"Assign the panel" not in page.content
    assert signed_in_client(Role.RESEARCHER).get(f"/applications/{project.pk}/").status_code == 403


# Closing, and moves the state does not allow.


def test_closing_stops_work_and_closes(applicant, make_person, smr01):
    precedent(make_person, [smr01])
    approver = make_person(Role.APPROVER)
    project = fill(applications.start(applicant), applicant, [smr01], ["admissions.age"])
    applications.submit(project, by=applicant)
    applications.decide_fast_track(project, approve=True, note="", by=approver)
    applications.activate(project, by=approver)
    assert project.is_active
    applications.begin_closing(project, by=approver)
    assert project.status == ProjectStatus.CLOSING
    assert not project.is_active, "a closing project's workspace is read-only"
    applications.close(project, by=approver)
    assert project.status == ProjectStatus.CLOSED
    assert project in services.registered_projects()


@pytest.mark.parametrize(
    ("move", "message"),
    [
        (applications.activate, "is draft, so it cannot be activated"),
        (applications.begin_closing, "is draft, so it cannot be closed"),
        (applications.close, "is draft, so it cannot be closed"),
    ],
)
def test_moves_the_state_does_not_allow_are_refused(applicant, make_person, move, message):
    project = applications.start(applicant)
    with pytest.raises(applications.ApplicationError, match=message):
        move(project, by=make_person(Role.APPROVER))
    project.refresh_from_db()
    assert project.status == ProjectStatus.DRAFT
    assert refusals(AuditEvent.objects.latest("id").action)


def test_returning_without_a_question_is_refused(applicant, make_person, smr01):
    precedent(make_person, [smr01])
    project = fill(applications.start(applicant), applicant, [smr01], ["admissions.age"])
    applications.submit(project, by=applicant)
    with pytest.raises(applications.ApplicationError, match="at least one question"):
        applications.return_with_questions(project, [" "], by=make_person(Role.APPROVER))
    assert project.status == ProjectStatus.FAST_TRACK


def test_activation_needs_a_cleared_pi(applicant, make_person, smr01, clock):
    precedent(make_person, [smr01])
    approver = make_person(Role.APPROVER)
    project = fill(applications.start(applicant), applicant, [smr01], ["admissions.age"])
    applications.submit(project, by=applicant)
    applications.decide_fast_track(project, approve=True, note="", by=approver)
    clock.advance(400)
    with pytest.raises(applications.ApplicationError, match="principal investigator cannot"):
        applications.activate(project, by=approver)
    assert project.status == ProjectStatus.APPROVED


def test_a_submitted_application_cannot_be_edited(applicant, smr01):
    project = fill(applications.start(applicant), applicant, [smr01], ["admissions.age"])
    applications.submit(project, by=applicant)
    with pytest.raises(applications.ApplicationError, match="only be changed while"):
        applications.save_step(project, 1, {"title": "Changed"}, by=applicant)
    project.refresh_from_db()
    assert project.title == "Statins and stroke"


# The approver's Applications list, and the panel member's way in.


def test_active_and_closing_projects_are_on_the_approvers_list(
    applicant, make_person, smr01, signed_in_client
):
    precedent(make_person, [smr01])
    approver = make_person(Role.APPROVER)
    project = fill(applications.start(applicant), applicant, [smr01], ["admissions.age"])
    applications.submit(project, by=applicant)
    applications.decide_fast_track(project, approve=True, note="", by=approver)
    applications.activate(project, by=approver)
    client = signed_in_client(person=approver)

    page = client.get("/applications/").content.decode()
    assert project.reference in page
    assert "Start closing the project" in page

    applications.begin_closing(project, by=approver)
    closing = client.get("/applications/", {"state": "closing"}).content.decode()
    assert project.reference in closing
    assert "Close the project" in closing
    active = client.get("/applications/", {"state": "active"}).content.decode()
    assert project.reference not in active

    applications.close(project, by=approver)
    assert project.reference not in client.get("/applications/").content.decode()


def test_an_approver_on_the_team_is_offered_no_step(
    applicant, make_person, smr01, signed_in_client
):
    precedent(make_person, [smr01])
    colleague = make_person(Role.APPROVER, username="colleague")
    project = fill(
        applications.start(applicant), applicant, [smr01], ["admissions.age"], team=[colleague]
    )
    applications.submit(project, by=applicant)
    page = signed_in_client(person=colleague).get("/applications/").content.decode()
    assert project.reference in page
    assert "None: you are on its team" in page
    assert ">Decide<" not in page


def test_a_panel_member_with_no_other_role_reaches_their_applications(
    applicant, make_person, smr01, signed_in_client
):
    project = fill(applications.start(applicant), applicant, [smr01], ["admissions.chi"])
    applications.submit(project, by=applicant)
    clinician = make_person(Role.RESEARCHER, username="clinician")
    client = signed_in_client(person=clinician)
    assert b'href="/applications/"' not in client.get("/").content

    applications.assign_panel(project, [clinician], clinician, by=make_person(Role.APPROVER))
    assert b'href="/applications/"' in client.get("/").content
    page = client.get("/applications/").content.decode()
    assert "Applications on your panel" in page
    assert f'href="/applications/{project.pk}/"' in page
    assert "Start a new application" not in page


def test_the_register_names_the_datasets_from_approval(applicant, make_person, smr01):
    prescribing = add_dataset("Prescribing", {"items": ["chi", "drug"]})
    precedent(make_person, [smr01, prescribing])
    project = fill(
        applications.start(applicant), applicant, [smr01, prescribing], ["admissions.age"]
    )
    applications.submit(project, by=applicant)
    applications.decide_fast_track(project, approve=True, note="", by=make_person(Role.APPROVER))
    project.refresh_from_db()
    assert project.status == ProjectStatus.APPROVED
    assert project.datasets_used == "Prescribing, SMR01"
    page = Client().get("/register/", {"q": "Prescribing"}).content.decode()
    assert project.reference in page
    assert "Prescribing, SMR01" in page


def test_a_rejected_application_names_no_datasets(applicant, make_person, smr01):
    precedent(make_person, [smr01])
    project = fill(applications.start(applicant), applicant, [smr01], ["admissions.age"])
    applications.submit(project, by=applicant)
    applications.decide_fast_track(
        project, approve=False, note="Out of scope.", by=make_person(Role.APPROVER)
    )
    assert project.datasets_used == ""


def test_the_fast_track_form_says_reject_throughout(
    applicant, make_person, smr01, signed_in_client
):
    precedent(make_person, [smr01])
    project = fill(applications.start(applicant), applicant, [smr01], ["admissions.age"])
    applications.submit(project, by=applicant)
    approver = signed_in_client(Role.APPROVER)
    page = approver.get(f"/applications/{project.pk}/").content.decode()
    assert 'value="reject">Reject</button>' in page
    assert "Needed when you reject." in page
    assert "efuse" not in page
    response = approver.post(
        f"/applications/{project.pk}/decide", {"decision": "refuse", "note": "x"}, follow=True
    )
    assert b"Press Approve or Reject." in response.content
    project.refresh_from_db()
    assert project.status == ProjectStatus.FAST_TRACK
    approver.post(f"/applications/{project.pk}/decide", {"decision": "reject", "note": "No."})
    project.refresh_from_db()
    assert project.status == ProjectStatus.REJECTED
