"""The home page and the auditor's view of the audit log."""

import csv
import json
from datetime import datetime, time

from django import forms
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from havenkit.core import audit, permissions
from havenkit.core.models import AuditEvent, Outcome
from havenkit.outputs import services as outputs
from havenkit.projects import services as projects
from havenkit.projects import transparency


def home(request: HttpRequest) -> HttpResponse:
    """What this person can act on now: their projects and any requests waiting for them."""
    permissions.check(request.user, "view_home")
    context = {"projects": projects.projects_for_member(request.user)}
    if permissions.can(request.user, "view_review_queue"):
        context["awaiting_review"] = outputs.requests_awaiting_review(request.user)
    return render(request, "core/home.html", context)


class AuditFilterForm(forms.Form):
    """Filters an auditor applies to the log; every field optional."""

    action = forms.CharField(required=False, max_length=80, label="Action (starts with)")
    actor = forms.CharField(required=False, max_length=150, label="Username")
    project = forms.CharField(
        required=False, max_length=80, label="Project reference (for example HK-2026-001)"
    )
    outcome = forms.ChoiceField(required=False, choices=[("", "Any"), *Outcome.choices])
    date_from = forms.DateField(required=False, label="From (YYYY-MM-DD)")
    date_to = forms.DateField(required=False, label="To (YYYY-MM-DD)")

    def clean(self) -> dict:
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise forms.ValidationError("The 'from' date must be on or before the 'to' date.")
        return data

    def clean_project(self) -> str:
        """The audit log's id for the project: given by its reference, or by its number."""
        given = self.cleaned_data["project"].strip()
        if not given or given.isdigit():
            return given
        project_id = transparency.project_id_of(given)
        if project_id is None:
            raise forms.ValidationError(
                f"No project has the reference {given}: check it on the project's pages."
            )
        return project_id

    def filter(self, events: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
        data = self.cleaned_data
        if data.get("action"):
            events = events.filter(action__startswith=data["action"])
        if data.get("actor"):
            events = events.filter(actor_username=data["actor"])
        if data.get("project"):
            events = events.filter(project_id=data["project"])
        if data.get("outcome"):
            events = events.filter(outcome=data["outcome"])
        zone = timezone.get_current_timezone()
        if data.get("date_from"):
            start = datetime.combine(data["date_from"], time.min, tzinfo=zone)
            events = events.filter(occurred_at__gte=start)
        if data.get("date_to"):
            end = datetime.combine(data["date_to"], time.max, tzinfo=zone)
            events = events.filter(occurred_at__lte=end)
        return events


def _filtered_events(request: HttpRequest) -> tuple[AuditFilterForm, QuerySet[AuditEvent]]:
    form = AuditFilterForm(request.GET or None)
    events = AuditEvent.objects.order_by("-id")
    if form.is_bound and form.is_valid():
        events = form.filter(events)
    elif form.is_bound:
        events = events.none()
    return form, events


def audit_log(request: HttpRequest) -> HttpResponse:
    permissions.check(request.user, "view_audit_log")
    form, events = _filtered_events(request)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    # Events name projects by id; people know them by their HK- reference.
    references = transparency.project_references({event.project_id for event in page})
    rows = [(event, references.get(event.project_id, event.project_id)) for event in page]
    return render(
        request,
        "core/audit_log.html",
        {"form": form, "page": page, "rows": rows, "query": query.urlencode()},
    )


CSV_COLUMNS = [
    "id",
    "occurred_at",
    "actor_username",
    "action",
    "object_type",
    "object_id",
    "project_id",
    "ip_address",
    "outcome",
    "details",
    "previous_hash",
    "event_hash",
]


class _Echo:
    """A file-like object whose write returns the line, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


def audit_log_csv(request: HttpRequest) -> HttpResponse:
    """Stream the filtered log as CSV, with hashes, so an auditor can re-verify it offline."""
    permissions.check(request.user, "view_audit_log")
    _form, events = _filtered_events(request)
    audit.record("audit.exported", request=request, details={"filters": request.GET.dict()})
    writer = csv.writer(_Echo())

    def rows():
        yield writer.writerow(CSV_COLUMNS)
        for event in events.iterator(chunk_size=2000):
            yield writer.writerow(
                [
                    event.pk,
                    event.occurred_at.isoformat(),
                    event.actor_username,
                    event.action,
                    event.object_type,
                    event.object_id,
                    event.project_id,
                    event.ip_address or "",
                    event.outcome,
                    json.dumps(event.details, sort_keys=True),
                    event.previous_hash,
                    event.event_hash,
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="havenkit-audit-log.csv"'
    return response


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A forged or stale CSRF token: refuse, explain, and record it as a security event."""
    audit.record(
        "security.csrf_rejected",
        request=request,
        outcome=Outcome.DENIED,
        details={"path": request.path, "reason": reason},
    )
    return render(request, "core/csrf_failure.html", status=403)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Every refusal is a 403 page that says why, and an audit event."""
    reason = str(exception) or "You do not have permission to do this."
    audit.record(
        "access.denied",
        request=request,
        outcome=Outcome.DENIED,
        details={"path": request.path, "method": request.method, "reason": reason},
    )
    return render(request, "core/403.html", {"reason": reason}, status=403)
