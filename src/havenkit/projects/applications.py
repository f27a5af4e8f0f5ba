"""Safe projects: an application's journey from draft to active and on to closed.

Every move between states goes through :func:`_move`, which refuses a move the state does not
allow, writes a timeline entry (when, who, who acts next) and an audit event. Who may act is
decided in ``core.permissions`` before these functions are called; what the state allows, and
whether the application is complete, is decided here.
"""

import statistics
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from havenkit.core import audit
from havenkit.data import catalogue as data_catalogue
from havenkit.data import imports
from havenkit.data.models import Dataset, Variable
from havenkit.people import accreditation
from havenkit.projects import triage
from havenkit.projects import variables as picked
from havenkit.projects.models import (
    REGISTERED_STATUSES,
    Membership,
    PanelSeat,
    PanelVote,
    Project,
    ProjectStatus,
    Question,
    TimelineEntry,
    Track,
    Vote,
)
from havenkit.projects.refusals import ProjectRefusal, refuse

S = ProjectStatus

# Which states each state may move to.
TRANSITIONS: dict[str, set[str]] = {
    S.DRAFT: {S.SUBMITTED},
    S.SUBMITTED: {S.IN_TRIAGE, S.FAST_TRACK, S.PANEL_REVIEW},
    S.IN_TRIAGE: {S.FAST_TRACK, S.PANEL_REVIEW},
    S.FAST_TRACK: {S.APPROVED, S.REJECTED, S.RETURNED},
    S.PANEL_REVIEW: {S.APPROVED, S.REJECTED, S.RETURNED},
    S.RETURNED: {S.SUBMITTED},
    S.APPROVED: {S.ACTIVE},
    S.ACTIVE: {S.CLOSING},
    S.CLOSING: {S.CLOSED},
}
EDITABLE = (S.DRAFT, S.RETURNED)
# Who must act next once an application enters each state, as the applicant's timeline says.
OWNERS = {
    S.DRAFT: "the applicant",
    S.SUBMITTED: "the haven",
    S.IN_TRIAGE: "the haven (automatic triage)",
    S.FAST_TRACK: "an approver",
    S.PANEL_REVIEW: "the panel",
    S.RETURNED: "the applicant",
    S.APPROVED: "an approver, to open the workspace",
    S.REJECTED: "nobody: the decision is final",
    S.ACTIVE: "the project team",
    S.CLOSING: "an approver, to close the project (the workspace is read-only)",
    S.CLOSED: "nobody: the workspace is kept read-only, then deleted after the retention period",
}
# The step an approver takes on an application in each state, as the Applications list offers it.
APPROVER_STEPS = {
    S.FAST_TRACK: "Decide",
    S.PANEL_REVIEW: "Assign the panel",
    S.APPROVED: "Make the project active",
    S.ACTIVE: "Start closing the project",
    S.CLOSING: "Close the project",
}

# The fields each step of the form fills, and the words used when one is missing.
STEP_FIELDS: dict[int, dict[str, str]] = {
    1: {
        "title": "a title",
        "lay_summary": "a lay summary",
        "public_benefit": "the public benefit",
        "purpose": "the purpose",
    },
    2: {"datasets": "at least one dataset", "variables": "the variables you need"},
    3: {
        "outputs_expected": "the outputs you expect",
        "legal_basis": "the legal basis",
        "data_controller": "the data controller",
        "funder": "the funder",
    },
    4: {
        "organisation": "your organisation",
        "start_date": "the start date",
        "end_date": "the end date",
    },
}
STEP_NAMES = {1: "About the project", 2: "Data", 3: "Governance", 4: "Team and dates"}


class ApplicationError(ProjectRefusal):
    """A refused step of an application, with the reason to show."""


def _refuse(action: str, reason: str, *, actor: Any, project: Project, **details: Any) -> None:
    refuse(action, reason, actor=actor, project=project, details=details, error=ApplicationError)


def panel_quorum() -> int:
    return settings.HAVENKIT_PANEL_QUORUM


def triage_rules() -> dict[str, Any]:
    return triage.rules_from(settings.HAVENKIT_TRIAGE)


def _move(project: Project, to: str, *, by: Any, action: str, note: str = "", **details: Any):
    """Move to state ``to`` (the caller has checked it is allowed), on the timeline and audited."""
    came_from = project.status
    project.status = to
    project.save()
    TimelineEntry.objects.create(
        project=project, status=to, at=timezone.now(), actor=by, owner=OWNERS[to], note=note
    )
    audit.record(
        action,
        actor=by,
        obj=project,
        project=project,
        details={"from": came_from, "to": to, **details},
    )


def _require_state(project: Project, to: str, *, by: Any, action: str, verb: str) -> None:
    if to not in TRANSITIONS.get(project.status, set()):
        _refuse(
            action,
            f"This application is {project.get_status_display().lower()}, so it cannot be {verb}.",
            actor=by,
            project=project,
        )


def _next_reference() -> str:
    year = timezone.localdate().year
    count = Project.objects.filter(reference__startswith=f"HK-{year}-").count()
    while True:
        count += 1
        reference = f"HK-{year}-{count:03d}"
        if not Project.objects.filter(reference=reference).exists():
            return reference


@transaction.atomic
def start(applicant: Any) -> Project:
    project = Project.objects.create(
        reference=_next_reference(),
        title="",
        organisation=applicant.organisation,
        lay_summary="",
        public_benefit="",
        pi=applicant,
    )
    TimelineEntry.objects.create(
        project=project, status=S.DRAFT, actor=applicant, owner=OWNERS[S.DRAFT]
    )
    audit.record("application.started", actor=applicant, obj=project, project=project)
    return project


def catalogue() -> QuerySet[Dataset]:
    """The datasets an application can ask for (read from the data app's catalogue)."""
    return Dataset.objects.order_by("title")


def variable_problems(variables: list[str], datasets: Iterable[Dataset]) -> list[str]:
    """Variables that are not columns of the chosen datasets, named: a list built from the
    catalogue never has one, so this catches a tampered form or a dataset unticked since."""
    offered = picked.offered_ids(datasets)
    unknown = [value for value in variables if value not in offered]
    if not unknown:
        return []
    return [
        f"These variables are not in the chosen datasets: {', '.join(unknown)}. "
        "Tick variables only from the lists under the datasets you chose."
    ]


def keep_chosen(variables: list[str], datasets: Iterable[Dataset]) -> list[str]:
    """The variables that belong to the chosen datasets: unticking a dataset drops its own."""
    offered = picked.offered_ids(datasets)
    return [value for value in variables if value in offered]


def step_problems(step: int, data: dict[str, Any]) -> list[str]:
    """What is wrong with a step's answers beyond their format: empty when nothing is."""
    if step == 2 and data.get("variables"):
        return variable_problems(data["variables"], data.get("datasets") or [])
    if step == 4:
        start_date, end_date = data.get("start_date"), data.get("end_date")
        if start_date and end_date and end_date <= start_date:
            return ["The end date must be after the start date."]
    return []


def save_step(project: Project, step: int, data: dict[str, Any], *, by: Any) -> Project:
    """Save one step's answers as the draft stands; the step counts as done only when complete,
    and the whole application is checked for completeness on submission."""
    if project.status not in EDITABLE:
        _refuse(
            "application.saved",
            f"This application is {project.get_status_display().lower()}: it can only be "
            "changed while it is a draft or has been returned to you.",
            actor=by,
            project=project,
            step=step,
        )
    if problems := step_problems(step, data):
        _refuse("application.saved", " ".join(problems), actor=by, project=project, step=step)
    with transaction.atomic():
        for name, value in data.items():
            if name in ("datasets", "team"):
                getattr(project, name).set(value)
            else:
                setattr(project, name, value)
        # A step is done only when it holds every answer it asks for: "Show their variables"
        # saves datasets before any variable is ticked. Steps count as done in order, so a step
        # no longer done leaves those before it done.
        if all(data.get(name) for name in STEP_FIELDS[step]):
            project.steps_done = max(project.steps_done, step)
        else:
            project.steps_done = min(project.steps_done, step - 1)
        project.save()
        audit.record(
            "application.saved", actor=by, obj=project, project=project, details={"step": step}
        )
    return project


def missing(project: Project) -> list[str]:
    """What a complete application still lacks, in words, step by step."""
    gaps = []
    for step, fields in STEP_FIELDS.items():
        for name, words in fields.items():
            value = getattr(project, name)
            if name == "datasets":
                value = value.exists()
            if not value:
                gaps.append(f"Step {step} ({STEP_NAMES[step]}): give {words}.")
    return gaps


def _refuse_gone_variables(project: Project, *, action: str, by: Any, then: str) -> None:
    """Refuse, naming them, variables the current version of their dataset dropped since they
    were ticked: they can no longer be extracted, so they can be neither submitted nor approved.
    ``then`` says what the person refused should do, with "{it}" for the variables."""
    gone = picked.gone_from_catalogue(project.variables)
    if not gone:
        return
    named = ", ".join(f"{name} is no longer in {title}" for name, title in gone)
    _refuse(
        action,
        f"{named}: " + then.format(it="it" if len(gone) == 1 else "them"),
        actor=by,
        project=project,
        variables=[f"{title}: {name}" for name, title in gone],
    )


def _refuse_gone_before_approval(project: Project, *, by: Any) -> None:
    """The catalogue may have changed since submission: approval covers current columns only."""
    _refuse_gone_variables(
        project,
        action="application.decided",
        by=by,
        then="return the application so the applicant can untick {it}, or ask the data steward.",
    )


def flagged_in_catalogue(datasets: Iterable[Dataset]) -> set[str]:
    """Every variable (as stored, with its dataset) the catalogue flags as an identifier or a
    quasi-identifier in the current version of each dataset: read, never changed, here."""
    versions = [v for v in map(data_catalogue.current_version, datasets) if v is not None]
    flagged = Variable.objects.filter(dataset_version__in=versions).filter(
        Q(is_identifier=True) | Q(is_quasi_identifier=True)
    )
    return {
        picked.variable_id(variable.dataset_version.dataset_id, f"{variable.table}.{variable.name}")
        for variable in flagged.select_related("dataset_version")
    }


def _case(project: Project) -> triage.Case:
    """What triage reads of an application. Variables are named "<dataset title>: table.column"
    so that a flag, and a precedent's variable, count for their own dataset only, and the
    reasons the approver reads say which dataset."""
    datasets = list(project.datasets.all())
    titles = {dataset.pk: dataset.title for dataset in datasets}

    def named(values: Iterable[str]) -> frozenset[str]:
        return frozenset(
            f"{titles[dataset_id]}: {name}"
            for dataset_id, names in picked.by_dataset(values).items()
            if dataset_id in titles
            for name in names
        )

    return triage.Case(
        reference=project.reference,
        datasets=frozenset(dataset.pk for dataset in datasets),
        flagged=named(flagged_in_catalogue(datasets)),
        variables=named(project.variables),
        linkage_wanted=bool(project.linkage_wanted.strip()),
        data_controller=project.data_controller,
        ethics_reference=project.ethics_reference,
    )


def precedents() -> list[triage.Case]:
    approved = Project.objects.filter(status__in=REGISTERED_STATUSES).prefetch_related("datasets")
    return [_case(project) for project in approved]


def submit(project: Project, *, by: Any) -> Project:
    """Submit (or resubmit) the application; the first submission is triaged at once.

    A returned application goes back to the track it was on, with its answers beside the
    questions, so the reviewers see what changed.
    """
    if project.status not in EDITABLE:
        _refuse(
            "application.submitted",
            f"This application was already submitted and is "
            f"{project.get_status_display().lower()}: it cannot be submitted twice.",
            actor=by,
            project=project,
        )
    if gaps := missing(project):
        _refuse(
            "application.submitted",
            "The application is not complete. " + " ".join(gaps),
            actor=by,
            project=project,
        )
    if project.questions.filter(answer="").exists():
        _refuse(
            "application.submitted",
            "Answer every question from the reviewers before you resubmit.",
            actor=by,
            project=project,
        )
    _refuse_gone_variables(
        project,
        action="application.submitted",
        by=by,
        then="untick {it} or ask the data steward.",
    )
    dates = {"start_date": project.start_date, "end_date": project.end_date}
    if problems := step_problems(4, dates):
        _refuse("application.submitted", " ".join(problems), actor=by, project=project)
    with transaction.atomic():
        resubmission = project.status == S.RETURNED
        project.submitted_at = timezone.now()
        _move(project, S.SUBMITTED, by=by, action="application.submitted")
        if resubmission:
            back_to = S.FAST_TRACK if project.track == Track.FAST else S.PANEL_REVIEW
            _move(project, back_to, by=None, action="application.resubmitted")
        else:
            _triage(project)
    return project


def _triage(project: Project) -> None:
    _move(project, S.IN_TRIAGE, by=None, action="application.in_triage")
    decision = triage.triage(_case(project), precedents(), triage_rules())
    project.track = decision.track
    project.triage_rule = decision.rule
    project.risk_score = decision.risk_score
    project.risk_reasons = decision.reasons
    _move(
        project,
        S.FAST_TRACK if decision.track == Track.FAST else S.PANEL_REVIEW,
        by=None,
        action="application.triaged",
        note=f"Triage: {decision.rule}.",
        rule=decision.rule,
        risk_score=decision.risk_score,
    )


def register_datasets(project: Project) -> str:
    """The datasets an application asked for, as the public register lists them."""
    return ", ".join(project.datasets.order_by("title").values_list("title", flat=True))


def _decision_made(project: Project, approve: bool, *, by: Any, note: str, action: str) -> None:
    project.decided_at = timezone.now()
    if approve:
        project.approved_at = project.decided_at
        # The public register names the datasets from approval on, not only once active.
        project.datasets_used = register_datasets(project)
    _move(project, S.APPROVED if approve else S.REJECTED, by=by, action=action, note=note)


def decide_fast_track(project: Project, *, approve: bool, note: str, by: Any) -> Project:
    """One approver decides a fast-track application (never one they are on the team of)."""
    if project.status != S.FAST_TRACK:
        _refuse(
            "application.decided",
            f"This application is {project.get_status_display().lower()}, not on the fast "
            "track, so one approver cannot decide it.",
            actor=by,
            project=project,
        )
    if not approve and not note.strip():
        _refuse(
            "application.decided",
            "Say why the application is rejected: the applicant sees your note.",
            actor=by,
            project=project,
        )
    if approve:
        _refuse_gone_before_approval(project, by=by)
    with transaction.atomic():
        _decision_made(project, approve, by=by, note=note, action="application.decided")
    return project


def return_with_questions(project: Project, questions: list[str], *, by: Any) -> Project:
    """Send the application back to the applicant with questions to answer in place."""
    _require_state(project, S.RETURNED, by=by, action="application.returned", verb="returned")
    questions = [text.strip() for text in questions if text.strip()]
    if not questions:
        _refuse(
            "application.returned",
            "Write at least one question for the applicant.",
            actor=by,
            project=project,
        )
    with transaction.atomic():
        for text in questions:
            Question.objects.create(project=project, asked_by=by, text=text)
        _move(
            project,
            S.RETURNED,
            by=by,
            action="application.returned",
            note=" / ".join(questions),
            questions=len(questions),
        )
    return project


def answer(question: Question, text: str, *, by: Any) -> Question:
    project = question.project
    if project.status != S.RETURNED:
        _refuse(
            "application.answered",
            "Questions can only be answered while the application is returned to you.",
            actor=by,
            project=project,
        )
    if not text.strip():
        _refuse("application.answered", "Write an answer.", actor=by, project=project)
    question.answer = text.strip()
    question.answered_at = timezone.now()
    question.save()
    audit.record(
        "application.answered",
        actor=by,
        obj=project,
        project=project,
        details={"question": question.pk},
    )
    return question


def assign_panel(project: Project, members: list[Any], chair: Any, *, by: Any) -> Project:
    """Seat the panel members who will vote; the chair is one of them."""
    if project.status != S.PANEL_REVIEW:
        _refuse(
            "application.panel_assigned",
            "A panel can only be assigned while the application is in panel review.",
            actor=by,
            project=project,
        )
    if chair not in members:
        _refuse(
            "application.panel_assigned",
            "The chair must be one of the panel members.",
            actor=by,
            project=project,
        )
    conflicted = [person.username for person in members if project.is_on_team(person)]
    if conflicted:
        _refuse(
            "application.panel_assigned",
            f"{', '.join(conflicted)} applied or is on the team, so cannot sit on this panel.",
            actor=by,
            project=project,
        )
    with transaction.atomic():
        project.panel_seats.all().delete()
        for person in members:
            PanelSeat.objects.create(project=project, member=person, is_chair=person == chair)
        audit.record(
            "application.panel_assigned",
            actor=by,
            obj=project,
            project=project,
            details={"members": [p.username for p in members], "chair": chair.username},
        )
    return project


def followed_by_approvers(state: str = "") -> QuerySet[Project]:
    """Projects an approver still has a step to take on (all of them, or those in one state),
    oldest submission first: from a decision to make to a project to close."""
    states = [state] if state in APPROVER_STEPS else list(APPROVER_STEPS)
    return Project.objects.filter(status__in=states).order_by("submitted_at")


def on_panels_of(person: Any) -> QuerySet[Project]:
    """Applications this person holds a panel seat on, newest submission first."""
    seated = PanelSeat.objects.filter(member=person).values("project_id")
    return Project.objects.filter(pk__in=seated).order_by("-submitted_at")


def current_round(project: Project) -> int:
    """Rounds count submissions: a resubmission after questions starts a new round of votes."""
    return project.timeline.filter(status=S.SUBMITTED).count()


def votes_this_round(project: Project) -> QuerySet[PanelVote]:
    return project.panel_votes.filter(round=current_round(project)).select_related("member")


def vote(project: Project, *, choice: str, comment: str, by: Any) -> PanelVote:
    if project.status != S.PANEL_REVIEW:
        _refuse(
            "application.voted",
            "Votes are only taken while the application is in panel review.",
            actor=by,
            project=project,
        )
    if not comment.strip():
        _refuse("application.voted", "Add a comment to your vote.", actor=by, project=project)
    round_number = current_round(project)
    if project.panel_votes.filter(member=by, round=round_number).exists():
        _refuse(
            "application.voted",
            "You have already voted in this round.",
            actor=by,
            project=project,
        )
    with transaction.atomic():
        panel_vote = PanelVote.objects.create(
            project=project, member=by, round=round_number, vote=choice, comment=comment.strip()
        )
        audit.record(
            "application.voted",
            actor=by,
            obj=project,
            project=project,
            details={"vote": choice, "round": round_number},
        )
    return panel_vote


def record_panel_outcome(
    project: Project, *, outcome: str, note: str, questions: list[str], by: Any
) -> Project:
    """The chair records the panel's decision once the configured quorum has voted."""
    if project.status != S.PANEL_REVIEW:
        _refuse(
            "application.decided",
            "The panel's outcome can only be recorded while the application is in panel review.",
            actor=by,
            project=project,
        )
    voted = votes_this_round(project).count()
    if voted < panel_quorum():
        _refuse(
            "application.decided",
            f"The panel needs {panel_quorum()} votes before the chair records the outcome; "
            f"{voted} so far.",
            actor=by,
            project=project,
        )
    if outcome == Vote.RETURN:
        return return_with_questions(project, questions, by=by)
    if outcome == Vote.REJECT and not note.strip():
        _refuse(
            "application.decided",
            "Say why the panel rejects the application: the applicant sees your note.",
            actor=by,
            project=project,
        )
    if outcome == Vote.APPROVE:
        _refuse_gone_before_approval(project, by=by)
    with transaction.atomic():
        _decision_made(
            project, outcome == Vote.APPROVE, by=by, note=note, action="application.decided"
        )
    return project


def activate(project: Project, *, by: Any) -> Project:
    """Open an approved project: its PI and cleared team become members until its end date."""
    _require_state(project, S.ACTIVE, by=by, action="application.activated", verb="activated")
    if blockers := accreditation.access_blockers(project.pi):
        _refuse(
            "application.activated",
            "The principal investigator cannot be given access yet: " + " ".join(blockers),
            actor=by,
            project=project,
        )
    cleared = set(accreditation.cleared_people().values_list("pk", flat=True))
    with transaction.atomic():
        _move(project, S.ACTIVE, by=by, action="application.activated")
        people = [(project.pi, Membership.ProjectRole.PI)] + [
            (person, Membership.ProjectRole.RESEARCHER)
            for person in project.team.exclude(pk=project.pi_id)
            if person.pk in cleared
        ]
        for person, role in people:
            Membership.objects.update_or_create(
                project=project,
                user=person,
                defaults={"project_role": role, "ends_on": project.end_date},
            )
            audit.record(
                "membership.added",
                actor=by,
                obj=project,
                project=project,
                details={"username": person.username},
            )
    return project


def begin_closing(project: Project, *, by: Any) -> Project:
    """Stop work: the workspace becomes read-only (a project that is not active is)."""
    _require_state(project, S.CLOSING, by=by, action="application.closing", verb="closed")
    with transaction.atomic():
        _move(project, S.CLOSING, by=by, action="application.closing")
    return project


def expire(project: Project) -> Project:
    """Record that an active project's approval has run out: access already stopped on the day
    after its end date (:attr:`Project.is_active`); this puts it on the timeline and audit log."""
    _require_state(project, S.CLOSING, by=None, action="project.expired", verb="expired")
    with transaction.atomic():
        _move(
            project,
            S.CLOSING,
            by=None,
            action="project.expired",
            note=f"The approval expired after {project.end_date:%d %B %Y}: access stopped.",
            end_date=project.end_date.isoformat(),
        )
    return project


def close(project: Project, *, by: Any) -> Project:
    """Finish closing: the project is closed and stays on the public register as closed."""
    _require_state(project, S.CLOSED, by=by, action="application.closed", verb="closed")
    with transaction.atomic():
        _move(project, S.CLOSED, by=by, action="application.closed")
        # Files waiting in the airlock for a closed project can no longer be let in.
        imports.close_pending(project)
    return project


def expected_days(track: str) -> int | None:
    """Median days from first submission to decision for past applications on this track."""
    decided = Project.objects.filter(
        track=track, submitted_at__isnull=False, decided_at__isnull=False
    ).prefetch_related("timeline")
    durations = []
    for project in decided:
        first = project.timeline.filter(status=S.SUBMITTED).first()
        if first is not None:
            durations.append((project.decided_at - first.at).days)
    return round(statistics.median(durations)) if durations else None
