"""Pages for changing who is on a project: the PI's request and the approver's decision."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from havenkit.core import permissions
from havenkit.people import accreditation
from havenkit.projects import membership
from havenkit.projects.forms import DecisionForm, MembershipRequestForm
from havenkit.projects.models import MembershipRequest, Project


@require_http_methods(["GET", "POST"])
def members(request: HttpRequest, project_id: int) -> HttpResponse:
    """The PI's view of the team, each person's clearance, and requests to change it."""
    project = get_object_or_404(Project, pk=project_id)
    permissions.check(request.user, "request_membership_change", project)
    form = MembershipRequestForm(request.POST or None)
    if form.is_valid():
        try:
            person = membership.person_named(
                project, form.cleaned_data["username"], requested_by=request.user
            )
            membership.request_change(
                project,
                person=person,
                change=form.cleaned_data["change"],
                ends_on=form.cleaned_data["ends_on"],
                reason=form.cleaned_data["reason"],
                requested_by=request.user,
            )
        except membership.UnknownPerson as refusal:
            form.add_error("username", str(refusal))
        except membership.MembershipError as refusal:
            form.add_error(None, str(refusal))
        else:
            messages.success(request, "Your request has gone to an approver.")
            return HttpResponseRedirect(reverse("applications:members", args=[project.pk]))
    requests = [
        (item, membership.blockers(item))
        for item in project.member_requests.select_related("person", "decided_by")
    ]
    context = {
        "project": project,
        "members": membership.members(project),
        "cleared_ids": set(accreditation.cleared_people().values_list("pk", flat=True)),
        "requests": requests,
        "form": form,
    }
    return render(request, "projects/members.html", context, status=400 if form.errors else 200)


def _queue(request: HttpRequest, form: DecisionForm, form_for: int | None = None) -> HttpResponse:
    context = {
        "requests": [(item, membership.blockers(item)) for item in membership.pending_requests()],
        "form": form,
        "form_for": form_for,
    }
    return render(
        request, "projects/membership_requests.html", context, status=400 if form.errors else 200
    )


def membership_requests(request: HttpRequest) -> HttpResponse:
    """The approver's queue of membership changes, each with what stands in its way."""
    permissions.check(request.user, "view_membership_requests")
    return _queue(request, DecisionForm())


@require_POST
def decide(request: HttpRequest, request_id: int) -> HttpResponse:
    membership_request = get_object_or_404(MembershipRequest, pk=request_id)
    permissions.check(request.user, "decide_membership_request", membership_request)
    form = DecisionForm(request.POST, auto_id=f"decision-{request_id}-%s")
    if not form.is_valid():
        return _queue(request, form, form_for=request_id)
    try:
        membership.decide(
            membership_request,
            approve=form.cleaned_data["decision"] == "approve",
            note=form.cleaned_data["note"],
            decided_by=request.user,
        )
    except membership.MembershipError as refusal:
        form.add_error(None, str(refusal))
        return _queue(request, form, form_for=request_id)
    messages.success(request, f"Request {membership_request.pk} decided.")
    return HttpResponseRedirect(reverse("applications:membership_requests"))
