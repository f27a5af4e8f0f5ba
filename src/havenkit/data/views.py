"""Pages of the ingress airlock, for data stewards and approvers: thin wrappers over
``airlock`` and ``core.permissions``."""

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from havenkit.core import permissions
from havenkit.data import airlock, services
from havenkit.data.forms import (
    SCHEMA_EXAMPLE,
    IngressReviewForm,
    IngressUploadForm,
    WithdrawalForm,
)
from havenkit.data.models import (
    DatasetVersion,
    ImportState,
    IngressState,
    IngressUpload,
    ProjectImport,
)


def _upload(upload_id: int) -> IngressUpload:
    return get_object_or_404(
        IngressUpload.objects.select_related("uploaded_by", "reviewed_by"), pk=upload_id
    )


def ingress_list(request: HttpRequest) -> HttpResponse:
    permissions.check(request.user, "view_ingress")
    uploads = IngressUpload.objects.select_related("uploaded_by")[:200]
    project_imports = ProjectImport.objects.select_related("project", "uploaded_by")[:200]
    return render(
        request,
        "data/ingress_list.html",
        {
            "awaiting": [u for u in uploads if u.state == IngressState.AWAITING_REVIEW],
            "others": [u for u in uploads if u.state != IngressState.AWAITING_REVIEW],
            "imports_awaiting": [
                i for i in project_imports if i.state == ImportState.AWAITING_REVIEW
            ],
            "imports_others": [
                i for i in project_imports if i.state != ImportState.AWAITING_REVIEW
            ],
        },
    )


def ingress_new(request: HttpRequest) -> HttpResponse:
    permissions.check(request.user, "upload_ingress")
    form = IngressUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        upload = airlock.receive_upload(
            filename=data["file"].name,
            chunks=data["file"].chunks(),
            dataset_title=data["dataset_title"],
            dataset_description=data["dataset_description"],
            data_controller=data["data_controller"],
            table_name=data["table_name"],
            schema=data["schema"],
            uploaded_by=request.user,
            request=request,
        )
        return HttpResponseRedirect(reverse("data:ingress_upload", args=[upload.pk]))
    return render(
        request, "data/ingress_new.html", {"form": form, "schema_example": SCHEMA_EXAMPLE}
    )


def _render_upload(
    request: HttpRequest, upload: IngressUpload, review_form: IngressReviewForm | None = None
) -> HttpResponse:
    awaiting = upload.state == IngressState.AWAITING_REVIEW
    return render(
        request,
        "data/ingress_upload.html",
        {
            "upload": upload,
            "review_form": review_form or (IngressReviewForm() if awaiting else None),
            "has_problem_file": airlock.problems_path(upload).is_file(),
        },
    )


def ingress_upload(request: HttpRequest, upload_id: int) -> HttpResponse:
    upload = _upload(upload_id)
    permissions.check(request.user, "view_ingress", upload)
    return _render_upload(request, upload)


def ingress_problems(request: HttpRequest, upload_id: int) -> FileResponse:
    upload = _upload(upload_id)
    permissions.check(request.user, "view_ingress", upload)
    path = airlock.problems_path(upload)
    if not path.is_file():
        raise Http404("This upload has no problem report.")
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=f"upload-{upload.pk}-problems.csv",
        content_type="text/csv",
    )


@require_POST
def ingress_review(request: HttpRequest, upload_id: int) -> HttpResponse:
    upload = _upload(upload_id)
    permissions.check(request.user, "review_ingress", upload)
    form = IngressReviewForm(request.POST)
    if not form.is_valid():
        return _render_upload(request, upload, form)
    try:
        if form.cleaned_data["decision"] == "approve":
            upload = airlock.approve(upload, request.user, form.cleaned_data["comment"], request)
            messages.success(
                request,
                f"Approved: {upload.dataset_version} is now in the catalogue.",
            )
        else:
            airlock.reject(upload, request.user, form.cleaned_data["comment"], request)
            messages.success(request, "Rejected: the uploaded data has been deleted.")
    except airlock.AirlockError as error:
        messages.error(request, str(error))
    return HttpResponseRedirect(reverse("data:ingress_upload", args=[upload.pk]))


def withdraw_dataset_version(request: HttpRequest, version_id: int) -> HttpResponse:
    """An approver deletes a dataset version's files; the deletion record stays in the log."""
    dataset_version = get_object_or_404(
        DatasetVersion.objects.select_related("dataset"), pk=version_id
    )
    permissions.check(request.user, "withdraw_dataset_version", dataset_version)
    form = WithdrawalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.withdraw_dataset_version(
                dataset_version, request.user, form.cleaned_data["reason"], request
            )
        except services.WithdrawalError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request, f"{dataset_version} withdrawn: its files are deleted and recorded."
            )
            return HttpResponseRedirect(
                reverse("data:withdraw_dataset_version", args=[dataset_version.pk])
            )
    return render(request, "data/withdraw.html", {"dataset_version": dataset_version, "form": form})
