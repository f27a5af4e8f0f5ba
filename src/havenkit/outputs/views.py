"""Pages of release requests: thin wrappers over ``services``, ``policies`` and permissions."""

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from havenkit.core import permissions
from havenkit.outputs import policies, services
from havenkit.outputs.forms import (
    AddFileForm,
    JustificationForm,
    NewReleaseRequestForm,
    ReplyForm,
    ReviewForm,
)
from havenkit.outputs.models import FileReview, ReleaseFile, ReleaseRequest
from havenkit.projects.models import Project
from havenkit.workspaces import services as workspaces


@dataclass
class ReviewThread:
    """A review as the viewer may see it, with the answers to its comment and a form to answer."""

    review: FileReview
    reply_form: ReplyForm | None


@dataclass
class FileRow:
    """One file on the request page with what this viewer may see and do with it."""

    file: ReleaseFile
    reviews: list[FileReview]
    decisions_visible: bool
    summary: str
    review_form: ReviewForm | None
    justification_form: JustificationForm | None
    threads: list[ReviewThread]


def _release_request(request_id: int) -> ReleaseRequest:
    return get_object_or_404(
        ReleaseRequest.objects.select_related("project", "author"), pk=request_id
    )


def _release_file(release_request: ReleaseRequest, file_id: int) -> ReleaseFile:
    return get_object_or_404(release_request.files, pk=file_id)


def _to_request_page(release_request: ReleaseRequest) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("outputs:release_request", args=[release_request.pk]))


def _threads(
    release_request: ReleaseRequest,
    all_reviews: list[FileReview],
    decisions_visible: bool,
    bound_reply: tuple[int, ReplyForm] | None,
) -> list[ReviewThread]:
    """Reviews of every round the viewer may see: superseded ones ended with a return."""
    threads = []
    for review in all_reviews:
        if review.superseded_at is None and not decisions_visible:
            continue
        reply_form = None
        if policies.can_reply(release_request.state, review.comment):
            if bound_reply and bound_reply[0] == review.pk:
                reply_form = bound_reply[1]
            else:
                reply_form = ReplyForm(prefix=f"reply-{review.pk}")
        threads.append(ReviewThread(review=review, reply_form=reply_form))
    return threads


def _file_rows(
    request: HttpRequest,
    release_request: ReleaseRequest,
    bound_review: tuple[int, ReviewForm] | None,
    bound_justification: tuple[int, JustificationForm] | None = None,
    bound_reply: tuple[int, ReplyForm] | None = None,
) -> list[FileRow]:
    """The files with what the request's state allows this viewer; the template asks who."""
    user = request.user
    rows = []
    every_review = FileReview.history.select_related("checker").prefetch_related("replies__author")
    files = release_request.files.prefetch_related(
        "reviews", Prefetch("reviews", queryset=every_review, to_attr="all_reviews")
    )
    for release_file in files:
        reviews = list(release_file.reviews.all())
        visible = policies.can_see_decisions(release_request.state, reviews, user.pk)
        form = None
        if policies.can_review_file(release_request.state, release_file.name, reviews, user.pk):
            if bound_review and bound_review[0] == release_file.pk:
                form = bound_review[1]
            else:
                form = ReviewForm(prefix=f"file-{release_file.pk}")
        justification_form = None
        if release_file.needs_justification and policies.can_change_files(release_request.state):
            if bound_justification and bound_justification[0] == release_file.pk:
                justification_form = bound_justification[1]
            else:
                justification_form = JustificationForm(
                    prefix=f"justify-{release_file.pk}",
                    initial={"justification": release_file.justification},
                )
        rows.append(
            FileRow(
                file=release_file,
                reviews=reviews,
                decisions_visible=visible,
                summary=policies.review_summary(reviews, decisions_visible=visible),
                review_form=form,
                justification_form=justification_form,
                threads=_threads(release_request, release_file.all_reviews, visible, bound_reply),
            )
        )
    return rows


def _render_request_page(
    request: HttpRequest,
    release_request: ReleaseRequest,
    *,
    add_form: AddFileForm | None = None,
    bound_review: tuple[int, ReviewForm] | None = None,
    bound_justification: tuple[int, JustificationForm] | None = None,
    bound_reply: tuple[int, ReplyForm] | None = None,
) -> HttpResponse:
    rows = _file_rows(request, release_request, bound_review, bound_justification, bound_reply)
    can_change_files = policies.can_change_files(release_request.state)
    if can_change_files and add_form is None:
        add_form = AddFileForm(outputs=workspaces.finished_outputs(release_request.project))
    hidden_files = {row.file.name for row in rows if not row.decisions_visible}
    context = {
        "release_request": release_request,
        "rows": rows,
        "timeline": services.timeline_of(release_request, hidden_files=hidden_files),
        "can_change_files": can_change_files,
        "add_form": add_form,
        "can_withdraw": policies.can_withdraw(release_request.state),
        "can_download": policies.can_download(release_request.state),
        "approvals_needed": policies.APPROVALS_NEEDED,
    }
    bound_forms = [add_form, bound_review and bound_review[1]]
    bound_forms.append(bound_justification and bound_justification[1])
    bound_forms.append(bound_reply and bound_reply[1])
    status = 400 if any(form and form.errors for form in bound_forms) else 200
    return render(request, "outputs/release_request.html", context, status=status)


@require_GET
def project_requests(request: HttpRequest, project_id: int) -> HttpResponse:
    project = get_object_or_404(Project, pk=project_id)
    permissions.check(request.user, "view_workspace", project)
    return render(
        request,
        "outputs/project_requests.html",
        {"project": project, "release_requests": project.release_requests.select_related("author")},
    )


def new_request(request: HttpRequest, project_id: int) -> HttpResponse:
    project = get_object_or_404(Project, pk=project_id)
    permissions.check(request.user, "create_release_request", project)
    outputs = workspaces.finished_outputs(project)
    form = NewReleaseRequestForm(request.POST or None, outputs=outputs)
    if request.method == "POST" and form.is_valid():
        try:
            release_request = services.create_release_request(
                project, request.user, form.choices(), request=request
            )
        except policies.ReleaseRequestError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Release request created as a draft.")
            return _to_request_page(release_request)
    status = 400 if form.errors else 200
    return render(
        request, "outputs/new_request.html", {"project": project, "form": form}, status=status
    )


@require_GET
def release_request_page(request: HttpRequest, request_id: int) -> HttpResponse:
    release_request = _release_request(request_id)
    services.check_may_view(request.user, release_request)
    return _render_request_page(request, release_request)


@require_POST
def add_file(request: HttpRequest, request_id: int) -> HttpResponse:
    release_request = _release_request(request_id)
    permissions.check(request.user, services.EDIT_REQUEST, release_request)
    form = AddFileForm(request.POST, outputs=workspaces.finished_outputs(release_request.project))
    if not form.is_valid():
        return _render_request_page(request, release_request, add_form=form)
    try:
        release_file = services.add_file(
            release_request, form.choice(), request.user, request=request
        )
    except policies.ReleaseRequestError as error:
        form.add_error(None, str(error))
        return _render_request_page(request, release_request, add_form=form)
    messages.success(request, f"{release_file.name} is in the request.")
    return _to_request_page(release_request)


@require_POST
def justify_file(request: HttpRequest, request_id: int, file_id: int) -> HttpResponse:
    release_request = _release_request(request_id)
    release_file = _release_file(release_request, file_id)
    permissions.check(request.user, services.EDIT_REQUEST, release_request)
    form = JustificationForm(request.POST, prefix=f"justify-{release_file.pk}")
    if not form.is_valid():
        return _render_request_page(
            request, release_request, bound_justification=(release_file.pk, form)
        )
    try:
        services.justify_file(
            release_file, request.user, form.cleaned_data["justification"], request=request
        )
    except policies.ReleaseRequestError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Your justification for {release_file.name} is recorded.")
    return _to_request_page(release_request)


@require_POST
def reply_to_review(request: HttpRequest, request_id: int, review_id: int) -> HttpResponse:
    release_request = _release_request(request_id)
    review = get_object_or_404(
        FileReview.history.select_related("checker", "release_file__release_request"),
        pk=review_id,
        release_file__release_request=release_request,
    )
    permissions.check(request.user, services.REPLY_TO_REVIEW, release_request.project)
    form = ReplyForm(request.POST, prefix=f"reply-{review.pk}")
    if not form.is_valid():
        return _render_request_page(request, release_request, bound_reply=(review.pk, form))
    try:
        services.reply_to_review(review, request.user, form.cleaned_data["text"], request=request)
    except policies.ReleaseRequestError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            f"Your answer to {review.checker.username}'s comment on {review.release_file.name} "
            "is recorded.",
        )
    return _to_request_page(release_request)


@require_GET
def view_image(request: HttpRequest, request_id: int, file_id: int) -> HttpResponse:
    """An image's stored copy, inline, for the file page; sandboxed so an SVG runs nothing."""
    release_request = _release_request(request_id)
    release_file = _release_file(release_request, file_id)
    try:
        path, content_type = services.open_image(release_file, request.user, request=request)
    except policies.ReleaseRequestError as error:
        raise PermissionDenied(str(error)) from error
    response = FileResponse(path.open("rb"), content_type=content_type)
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
def remove_file(request: HttpRequest, request_id: int, file_id: int) -> HttpResponse:
    release_request = _release_request(request_id)
    release_file = _release_file(release_request, file_id)
    try:
        services.remove_file(release_file, request.user, request=request)
    except policies.ReleaseRequestError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"{release_file.name} was removed from the request.")
    return _to_request_page(release_request)


@require_POST
def submit(request: HttpRequest, request_id: int) -> HttpResponse:
    release_request = _release_request(request_id)
    try:
        services.submit(release_request, request.user, request=request)
    except policies.ReleaseRequestError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Submitted: two output checkers will review every file.")
    return _to_request_page(release_request)


@require_POST
def withdraw(request: HttpRequest, request_id: int) -> HttpResponse:
    release_request = _release_request(request_id)
    try:
        services.withdraw(release_request, request.user, request=request)
    except policies.ReleaseRequestError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "The release request was withdrawn.")
    return _to_request_page(release_request)


@require_POST
def review_file(request: HttpRequest, request_id: int, file_id: int) -> HttpResponse:
    release_request = _release_request(request_id)
    release_file = _release_file(release_request, file_id)
    permissions.check(request.user, "review_release_request", release_request)
    form = ReviewForm(request.POST, prefix=f"file-{release_file.pk}")
    if not form.is_valid():
        return _render_request_page(request, release_request, bound_review=(release_file.pk, form))
    try:
        release_request = services.review_file(
            release_file,
            request.user,
            form.cleaned_data["decision"],
            form.cleaned_data["comment"],
            request=request,
        )
    except policies.ReleaseRequestError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            f"Your review of {release_file.name} is recorded. "
            f"The request is now {release_request.get_state_display().lower()}.",
        )
    return _to_request_page(release_request)


@require_GET
def view_file(request: HttpRequest, request_id: int, file_id: int) -> HttpResponse:
    release_request = _release_request(request_id)
    release_file = _release_file(release_request, file_id)
    try:
        preview = services.preview_file(release_file, request.user, request=request)
    except services.StoredCopyChanged as error:
        messages.error(request, str(error))
        return _to_request_page(release_request)
    except policies.ReleaseRequestError as error:
        raise PermissionDenied(str(error)) from error
    return render(
        request,
        "outputs/view_file.html",
        {"release_request": release_request, "release_file": release_file, "preview": preview},
    )


@require_GET
def download_file(request: HttpRequest, request_id: int, file_id: int) -> HttpResponse:
    release_request = _release_request(request_id)
    release_file = _release_file(release_request, file_id)
    try:
        path = services.open_released_file(release_file, request.user, request=request)
    except services.StoredCopyChanged as error:
        messages.error(request, str(error))
        return _to_request_page(release_request)
    except policies.ReleaseRequestError as error:
        raise PermissionDenied(str(error)) from error
    return FileResponse(path.open("rb"), as_attachment=True, filename=path.name)


@require_GET
def download_package(request: HttpRequest, request_id: int) -> HttpResponse:
    release_request = _release_request(request_id)
    try:
        package = services.released_package(release_request, request.user, request=request)
    except services.StoredCopyChanged as error:
        messages.error(request, str(error))
        return _to_request_page(release_request)
    except policies.ReleaseRequestError as error:
        raise PermissionDenied(str(error)) from error
    filename = f"{release_request.project.reference}-release-{release_request.pk}.zip"
    return FileResponse(package, as_attachment=True, filename=filename)


@require_GET
def download_record(request: HttpRequest, request_id: int) -> HttpResponse:
    release_request = _release_request(request_id)
    try:
        record = services.release_record(release_request, request.user, request=request)
    except policies.ReleaseRequestError as error:
        raise PermissionDenied(str(error)) from error
    response = HttpResponse(record, content_type="application/json")
    filename = f"{release_request.project.reference}-release-{release_request.pk}-record.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
def review_queue(request: HttpRequest) -> HttpResponse:
    permissions.check(request.user, "view_review_queue")
    return render(
        request,
        "outputs/review_queue.html",
        {
            "queue": services.review_queue(request.user),
            "approvals_needed": policies.APPROVALS_NEEDED,
        },
    )
