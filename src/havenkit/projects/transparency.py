"""Transparency: the public register, access reports for data controllers and auditors, and
the haven's own report.

Released outputs and accesses are read from the audit log, the haven's one record of what
happened, so the register and the reports can never disagree with it.
"""

from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from havenkit.core.models import AuditEvent
from havenkit.data.models import Dataset, Extract
from havenkit.people.models import Accreditation
from havenkit.projects import applications
from havenkit.projects.models import Project, ProjectStatus, Track
from havenkit.projects.services import registered_projects
from havenkit.workspaces.models import DataSource


def shows_pi() -> bool:
    """The register names PIs only when the haven chooses to (off by default)."""
    return bool(settings.HAVENKIT_REGISTER_SHOWS_PI)


@dataclass(frozen=True)
class RegisterEntry:
    """One line of the public register: only what the public is meant to see."""

    reference: str
    title: str
    organisation: str
    lay_summary: str
    public_benefit: str
    datasets: str
    start_date: str
    end_date: str
    status: str
    track: str
    outputs_released: int
    last_release: str
    approved_at: str
    principal_investigator: str


FIELDS = [name for name in RegisterEntry.__dataclass_fields__]


def _releases_by_project() -> dict[str, tuple[int, str]]:
    """Files released and the date of the last release, per project id, from the audit log."""
    summary: dict[str, tuple[int, str]] = {}
    for event in AuditEvent.objects.filter(action="release.released").order_by("id"):
        files = len(event.details.get("manifest", {}).get("files", []))
        count, _ = summary.get(event.project_id, (0, ""))
        summary[event.project_id] = (count + files, event.occurred_at.date().isoformat())
    return summary


def register_projects(query: str = "", status: str = "", track: str = "") -> QuerySet[Project]:
    projects = registered_projects()
    for word in query.split():
        projects = projects.filter(
            Q(title__icontains=word)
            | Q(lay_summary__icontains=word)
            | Q(public_benefit__icontains=word)
            | Q(organisation__icontains=word)
            | Q(datasets_used__icontains=word)
            | Q(reference__iexact=word)
        )
    if status:
        projects = projects.filter(status=status)
    if track:
        projects = projects.filter(track=track)
    return projects.select_related("pi")


def register_entries(query: str = "", status: str = "", track: str = "") -> list[RegisterEntry]:
    releases = _releases_by_project()
    entries = []
    for project in register_projects(query, status, track):
        released, last = releases.get(str(project.pk), (0, ""))
        entries.append(
            RegisterEntry(
                reference=project.reference,
                title=project.title,
                organisation=project.organisation,
                lay_summary=project.lay_summary,
                public_benefit=project.public_benefit,
                datasets=project.datasets_used,
                start_date=project.start_date.isoformat() if project.start_date else "",
                end_date=project.end_date.isoformat() if project.end_date else "",
                status=project.get_status_display(),
                track=project.get_track_display(),
                outputs_released=released,
                last_release=last,
                approved_at=project.approved_at.isoformat() if project.approved_at else "",
                principal_investigator=project.pi.get_full_name() if shows_pi() else "",
            )
        )
    return entries


def as_dict(entry: RegisterEntry) -> dict[str, Any]:
    return asdict(entry)


def project_references(project_ids: Iterable[str] | None = None) -> dict[str, str]:
    """Each project's HK- reference by its id as the audit log stores it (a string); every
    project's when ``project_ids`` is None."""
    projects = Project.objects.all()
    if project_ids is not None:
        projects = projects.filter(pk__in=[pk for pk in project_ids if pk.isdigit()])
    return {str(pk): reference for pk, reference in projects.values_list("pk", "reference")}


def project_id_of(reference: str) -> str | None:
    """The audit log's id for the project with this reference (any case), None if none has it."""
    project = Project.objects.filter(reference__iexact=reference.strip()).first()
    return None if project is None else str(project.pk)


# Access reports.

ACCESS_ACTIONS = {
    "extract.created": "Extract made for the project",
    "job.submitted": "Ran code on the project's real extract",
    "release.released": "Outputs released",
    "release.downloaded": "Released outputs downloaded",
}


@dataclass(frozen=True)
class Access:
    occurred_at: datetime
    person: str
    project: str
    what: str
    left: str


def _day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    zone = timezone.get_current_timezone()
    return datetime.combine(start, time.min, tzinfo=zone), datetime.combine(
        end, time.max, tzinfo=zone
    )


def access_report(dataset: Dataset, start: date, end: date) -> list[Access]:
    """Every person and project that touched this dataset's extracts between two dates, and
    which files left the haven from them."""
    extracts = Extract.objects.filter(dataset_version__dataset=dataset)
    extract_ids = set(extracts.values_list("pk", flat=True))
    project_ids = {str(pk) for pk in extracts.values_list("project_id", flat=True)}
    references = project_references(project_ids)
    first, last = _day_bounds(start, end)
    events = AuditEvent.objects.filter(
        action__in=ACCESS_ACTIONS,
        project_id__in=project_ids,
        occurred_at__range=(first, last),
    ).order_by("occurred_at", "id")
    accesses = []
    for event in events:
        if event.action == "job.submitted" and event.details.get("data") == DataSource.DUMMY:
            # Dummy data has the extract's shape but none of its records: no access to report.
            continue
        files = event.details.get("manifest", {}).get("files", [])
        left = [f["name"] for f in files if f.get("extract_id") in extract_ids]
        if event.action == "release.downloaded":
            # One file ("file") or the whole package ("files") was downloaded.
            left = event.details.get("files") or [event.details.get("file", "")]
        accesses.append(
            Access(
                occurred_at=event.occurred_at,
                person=event.actor_username or "havenkit",
                project=references.get(event.project_id, event.project_id),
                what=ACCESS_ACTIONS[event.action],
                left=", ".join(str(name) for name in left),
            )
        )
    return accesses


# The haven's report.


@dataclass(frozen=True)
class HavenReport:
    by_state_and_track: list[tuple[str, str, int]]
    median_days_to_decision: dict[str, int | None]
    outputs_reviewed: int
    outputs_released: int
    accreditations_expiring: int
    expiring_within_days: int


def haven_report(expiring_within_days: int = 60) -> HavenReport:
    counts = Project.objects.values("status", "track").annotate(n=Count("pk")).order_by("status")
    labels = dict(ProjectStatus.choices)
    tracks = dict(Track.choices)
    by_state = [
        (labels[row["status"]], tracks.get(row["track"], "Not triaged"), row["n"]) for row in counts
    ]
    medians = {label: applications.expected_days(track) for track, label in Track.choices}
    actions = Counter(
        AuditEvent.objects.filter(
            action__in=["release.file_reviewed", "release.released"]
        ).values_list("action", flat=True)
    )
    today = timezone.localdate()
    expiring = Accreditation.objects.filter(
        verified_at__isnull=False,
        expires_on__gte=today,
        expires_on__lte=today + timedelta(days=expiring_within_days),
    ).count()
    return HavenReport(
        by_state_and_track=by_state,
        median_days_to_decision=medians,
        outputs_reviewed=actions["release.file_reviewed"],
        outputs_released=sum(count for count, _ in _releases_by_project().values()),
        accreditations_expiring=expiring,
        expiring_within_days=expiring_within_days,
    )
