"""Pages of an application: the stepped form, the applicant's timeline, and the reviewers'
decisions. Every action checks who may act here and lets the applications service decide what
the state allows; a refusal comes back to the application page as a message."""

from collections.abc import Callable, Iterable

from django.contrib import messages
from django.db.models import QuerySet
from django.forms import Form
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from havenkit.core import permissions
from havenkit.data.models import Dataset
from havenkit.projects import applications, closure
from havenkit.projects import variables as picked
from havenkit.projects.forms import (
    STEP_FORMS,
    AnswerForm,
    ApproverListForm,
    DataStep,
    FastTrackDecisionForm,
    OutcomeForm,
    PanelForm,
    QuestionsForm,
    VoteForm,
)
from havenkit.projects.models import Project, Question


def _application(project_id: int) -> Project:
    return get_object_or_404(Project, pk=project_id)


def _to_detail(project: Project) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("applications:detail", args=[project.pk]))


def index(request: HttpRequest) -> HttpResponse:
    """Your applications, those whose panel you sit on and, for approvers, every project with a
    step left for an approver (narrowed to one state if asked), each with the step this person
    may take."""
    user = request.user
    permissions.check(user, "view_home")
    context = {
        "mine": Project.objects.filter(pi=user).order_by("-created_at"),
        "panels": applications.on_panels_of(user),
        "may_apply": permissions.can(user, "apply_for_project"),
    }
    if permissions.can(user, "view_applications"):
        form = ApproverListForm(request.GET or None)
        state = form.cleaned_data["state"] if form.is_valid() else ""
        context["state_form"] = form
        context["followed"] = [
            (
                project,
                applications.APPROVER_STEPS[project.status]
                if permissions.can(user, "decide_application", project)
                else "",
            )
            for project in applications.followed_by_approvers(state)
        ]
    return render(request, "projects/applications.html", context)


@require_POST
def start(request: HttpRequest) -> HttpResponse:
    permissions.check(request.user, "apply_for_project")
    project = applications.start(request.user)
    return HttpResponseRedirect(reverse("applications:step", args=[project.pk, 1]))


def _initial(project: Project, form_class: type[Form]) -> dict:
    initial = {}
    for name in form_class.base_fields:
        value = getattr(project, name)
        if name == "datasets":
            value = list(value.all())
        elif name == "team":
            value = " ".join(value.values_list("username", flat=True))
        initial[name] = value
    return initial


def _variables_context(datasets: Iterable[Dataset], ticked: Iterable[str]) -> dict:
    return {"tables": picked.catalogue_tables(datasets), "ticked": set(ticked)}


def _chosen(values: list[str]) -> QuerySet[Dataset]:
    """The catalogue's datasets among the ids a page sent; anything else is ignored here (the
    form refuses it by name on saving)."""
    return applications.catalogue().filter(pk__in=[value for value in values if value.isdigit()])


@require_http_methods(["GET", "POST"])
def step(request: HttpRequest, project_id: int, number: int) -> HttpResponse:
    """One step of the form; each save keeps the draft, so the applicant can leave and return.

    Step 2 lists the variables of the chosen datasets to tick. Without JavaScript, "Show their
    variables" saves the datasets chosen and shows this step again with their variables; with
    htmx, ticking a dataset asks this page for the list alone (a GET, so nothing is saved).
    """
    project = _application(project_id)
    permissions.check(request.user, "edit_application", project)
    form_class = STEP_FORMS.get(number)
    if form_class is None:
        return HttpResponseRedirect(reverse("applications:check", args=[project.pk]))
    if form_class is DataStep and request.headers.get("HX-Request") == "true":
        context = _variables_context(
            _chosen(request.GET.getlist("datasets")), request.GET.getlist("variables")
        )
        return render(request, "projects/_variables.html", context)
    showing = form_class is DataStep and "show_variables" in request.POST
    kwargs = {"showing_variables": showing} if form_class is DataStep else {}
    form = form_class(request.POST or None, initial=_initial(project, form_class), **kwargs)
    if form.is_valid():
        data = form.cleaned_data
        if showing:
            data["variables"] = applications.keep_chosen(data["variables"], data["datasets"])
        try:
            applications.save_step(project, number, data, by=request.user)
        except applications.ApplicationError as refusal:
            form.add_error(None, str(refusal))
        else:
            if showing:
                next_page = reverse("applications:step", args=[project.pk, number]) + "#variables"
            elif number + 1 in STEP_FORMS:
                next_page = reverse("applications:step", args=[project.pk, number + 1])
            else:
                next_page = reverse("applications:check", args=[project.pk])
            return HttpResponseRedirect(next_page)
    context = {
        "project": project,
        "form": form,
        "number": number,
        "step_name": applications.STEP_NAMES[number],
        "steps": applications.STEP_NAMES,
    }
    if form_class is DataStep:
        if form.is_bound:
            chosen = _chosen(request.POST.getlist("datasets"))
            context |= _variables_context(chosen, request.POST.getlist("variables"))
        else:
            context |= _variables_context(project.datasets.all(), project.variables)
    return render(
        request, "projects/application_step.html", context, status=400 if form.errors else 200
    )


def check(request: HttpRequest, project_id: int) -> HttpResponse:
    """The whole application to read over, what is missing, and the button to submit."""
    project = _application(project_id)
    permissions.check(request.user, "edit_application", project)
    context = {
        "project": project,
        "missing": applications.missing(project),
        "steps": applications.STEP_NAMES,
    }
    return render(request, "projects/application_check.html", context)


def detail(request: HttpRequest, project_id: int) -> HttpResponse:
    """The application's state, timeline, questions and the actions open to this person."""
    project = _application(project_id)
    permissions.check(request.user, "view_application", project)
    user = request.user
    context = {
        "project": project,
        "timeline": project.timeline.select_related("actor"),
        "questions": project.questions.select_related("asked_by"),
        "expected_days": applications.expected_days(project.track) if project.track else None,
        "votes": applications.votes_this_round(project),
        "seats": project.panel_seats.select_related("member"),
        "quorum": applications.panel_quorum(),
        "may_edit": permissions.can(user, "edit_application", project),
        "may_decide": permissions.can(user, "decide_application", project),
        "may_vote": permissions.can(user, "vote_on_application", project),
        "may_chair": permissions.can(user, "chair_panel", project),
        "deletion_due_on": closure.deletion_due_on(project),
        # Several forms share one page: each gets its own ids.
        "questions_form": QuestionsForm(auto_id="return-%s"),
        "decision_form": FastTrackDecisionForm(auto_id="decide-%s"),
        "panel_form": PanelForm(auto_id="panel-%s"),
        "vote_form": VoteForm(auto_id="vote-%s"),
        "outcome_form": OutcomeForm(auto_id="outcome-%s"),
    }
    return render(request, "projects/application_detail.html", context)


def _act(
    request: HttpRequest,
    project: Project,
    permission: str,
    form: Form | None,
    do: Callable[[], str],
) -> HttpResponseRedirect:
    """Check who may act, validate the form, let the service act; report either way."""
    permissions.check(request.user, permission, project)
    if form is not None and not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return _to_detail(project)
    try:
        done = do()
    except applications.ApplicationError as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, done)
    return _to_detail(project)


@require_POST
def submit(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _application(project_id)

    def do() -> str:
        applications.submit(project, by=request.user)
        return f"Application {project.reference} submitted: {project.get_status_display()}."

    return _act(request, project, "edit_application", None, do)


@require_POST
def answer(request: HttpRequest, project_id: int, question_id: int) -> HttpResponse:
    project = _application(project_id)
    question = get_object_or_404(Question, pk=question_id, project=project)
    form = AnswerForm(request.POST)

    def do() -> str:
        applications.answer(question, form.cleaned_data["answer"], by=request.user)
        return "Answer saved. Resubmit when every question is answered."

    return _act(request, project, "edit_application", form, do)


@require_POST
def decide(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _application(project_id)
    form = FastTrackDecisionForm(request.POST)

    def do() -> str:
        approve = form.cleaned_data["decision"] == "approve"
        applications.decide_fast_track(
            project, approve=approve, note=form.cleaned_data["note"], by=request.user
        )
        return f"Application {project.reference} {project.get_status_display().lower()}."

    return _act(request, project, "decide_application", form, do)


@require_POST
def return_application(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _application(project_id)
    form = QuestionsForm(request.POST)

    def do() -> str:
        applications.return_with_questions(project, form.cleaned_data["questions"], by=request.user)
        return f"Application {project.reference} returned to the applicant with your questions."

    return _act(request, project, "decide_application", form, do)


@require_POST
def assign_panel(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _application(project_id)
    form = PanelForm(request.POST)

    def do() -> str:
        applications.assign_panel(
            project, form.cleaned_data["members"], form.cleaned_data["chair"], by=request.user
        )
        return "Panel assigned."

    return _act(request, project, "decide_application", form, do)


@require_POST
def vote(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _application(project_id)
    form = VoteForm(request.POST)

    def do() -> str:
        applications.vote(
            project,
            choice=form.cleaned_data["vote"],
            comment=form.cleaned_data["comment"],
            by=request.user,
        )
        return "Your vote is recorded."

    return _act(request, project, "vote_on_application", form, do)


@require_POST
def outcome(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _application(project_id)
    form = OutcomeForm(request.POST)

    def do() -> str:
        applications.record_panel_outcome(
            project,
            outcome=form.cleaned_data["outcome"],
            note=form.cleaned_data["note"],
            questions=form.cleaned_data["questions"],
            by=request.user,
        )
        return f"Outcome recorded: {project.get_status_display().lower()}."

    return _act(request, project, "chair_panel", form, do)


@require_POST
def activate(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _application(project_id)

    def do() -> str:
        applications.activate(project, by=request.user)
        return f"{project.reference} is active: its members can use the workspace."

    return _act(request, project, "decide_application", None, do)


@require_POST
def begin_closing(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _application(project_id)

    def do() -> str:
        applications.begin_closing(project, by=request.user)
        return f"{project.reference} is closing: its workspace is now read-only."

    return _act(request, project, "decide_application", None, do)


@require_POST
def close(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _application(project_id)

    def do() -> str:
        applications.close(project, by=request.user)
        return (
            f"{project.reference} is closed. Its workspace files are deleted after "
            f"{closure.retention_days()} days."
        )

    return _act(request, project, "decide_application", None, do)
