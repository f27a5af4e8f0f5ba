"""Pages for safe people: asking for an account, your accreditation, changing your password,
and the administrator's checks of identities and training records."""

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from havenkit.core import audit, permissions
from havenkit.core.models import Outcome
from havenkit.people import accounts, accreditation, signin
from havenkit.people.forms import (
    ChangePasswordForm,
    IdentityCheckForm,
    RegistrationForm,
    TrainingForm,
)
from havenkit.people.models import Accreditation, IdentityStatus, User

# The person is signed in and changing a password, so "sign-in attempts" would puzzle them.
TOO_MANY_WRONG_PASSWORDS = (
    "Too many wrong passwords lately: try again in {wait}. Nothing was changed."
)


@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    """Ask for an account: it waits, unable to sign in, until an administrator checks identity."""
    form = RegistrationForm(request.POST or None)
    if form.is_valid():
        try:
            accounts.register(**form.cleaned_data)
        except accounts.AccountError as refusal:
            form.add_error("username", str(refusal))
        else:
            return render(request, "people/registered.html")
    return render(request, "people/register.html", {"form": form})


@require_http_methods(["GET", "POST"])
def my_accreditation(request: HttpRequest) -> HttpResponse:
    """The person's training records and agreement, and whether they may enter projects."""
    permissions.check(request.user, "view_home")
    form = TrainingForm(request.POST or None, request.FILES or None)
    if form.is_valid():
        try:
            accreditation.record_training(request.user, **form.cleaned_data)
        except accreditation.AccreditationError as refusal:
            form.add_error("expires_on", str(refusal))
            audit.record(
                "accreditation.recorded",
                request=request,
                outcome=Outcome.FAILURE,
                details={"reason": str(refusal)},
            )
        else:
            messages.success(request, "Training recorded. An administrator will verify it.")
            return HttpResponseRedirect(reverse("people:my_accreditation"))
    context = {
        "form": form,
        "records": request.user.accreditations.all(),
        "blockers": accreditation.access_blockers(request.user, to_person=True),
        "agreement_version": accreditation.USER_AGREEMENT_VERSION,
        "signed": request.user.agreement_signatures.filter(
            version=accreditation.USER_AGREEMENT_VERSION
        ).exists(),
    }
    return render(request, "people/my_accreditation.html", context)


@require_http_methods(["GET", "POST"])
def change_password(request: HttpRequest) -> HttpResponse:
    """Change the password you know; you stay signed in here and are signed out elsewhere.

    A wrong current password counts towards the sign-in rate limit, and while that limit holds
    the current password is not checked at all.
    """
    permissions.check(request.user, "change_own_password")
    rate_limited = ""
    if request.method == "POST":
        try:
            signin.refuse_while_rate_limited(
                request, request.user.username, "password_change", TOO_MANY_WRONG_PASSWORDS
            )
        except signin.SignInRefused as refusal:
            rate_limited = str(refusal)
    form = ChangePasswordForm(
        request.user,
        request.POST if request.method == "POST" else None,
        rate_limited=rate_limited,
    )
    if form.is_valid():
        accounts.change_own_password(
            request, form.cleaned_data["new_password1"], action="person.password_changed"
        )
        accounts.email_password_changed(request.user)
        messages.success(
            request,
            "Your password is changed. Anywhere else you were signed in, you are now signed out.",
        )
        return HttpResponseRedirect(reverse("people:my_accreditation"))
    if form.has_error("old_password", "password_incorrect"):
        accounts.record_wrong_current_password(request)
    status = 400 if form.errors else 200
    return render(request, "people/change_password.html", {"form": form}, status=status)


@require_POST
def sign_agreement(request: HttpRequest) -> HttpResponse:
    permissions.check(request.user, "view_home")
    accreditation.sign_agreement(request.user)
    messages.success(
        request, f"You signed version {accreditation.USER_AGREEMENT_VERSION} of the agreement."
    )
    return HttpResponseRedirect(reverse("people:my_accreditation"))


def evidence(request: HttpRequest, accreditation_id: int) -> FileResponse:
    """The certificate, for its owner and for administrators."""
    record = get_object_or_404(Accreditation, pk=accreditation_id)
    if record.user_id != request.user.pk:
        permissions.check(request.user, "manage_people")
    audit.record("accreditation.evidence_viewed", request=request, obj=record)
    return FileResponse(
        accreditation.evidence_file(record).open("rb"),
        as_attachment=True,
        filename=record.evidence_name,
    )


def _checks_page(
    request: HttpRequest, form: IdentityCheckForm, form_for: int | None = None
) -> HttpResponse:
    context = {
        "people": accounts.awaiting_identity_check(),
        "records": Accreditation.objects.filter(verified_at__isnull=True).select_related("user"),
        "form": form,
        "form_for": form_for,
    }
    return render(request, "people/checks.html", context, status=400 if form.errors else 200)


def checks(request: HttpRequest) -> HttpResponse:
    """The administrator's queue: identities to check and training records to verify."""
    permissions.check(request.user, "manage_people")
    return _checks_page(request, IdentityCheckForm())


@require_POST
def verify_identity(request: HttpRequest, person_id: int) -> HttpResponse:
    permissions.check(request.user, "manage_people")
    person = get_object_or_404(User, pk=person_id, identity_status=IdentityStatus.AWAITING_CHECK)
    # Each person's form on the page has its own ids, so the error summary links to the right one.
    form = IdentityCheckForm(request.POST, auto_id=f"evidence-{person.pk}-%s")
    if not form.is_valid():
        return _checks_page(request, form, form_for=person.pk)
    try:
        accounts.verify_identity(
            person, evidence=form.cleaned_data["evidence"], checked_by=request.user
        )
    except accounts.AccountError as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, f"{person.username} is verified and can now sign in.")
    return HttpResponseRedirect(reverse("people:checks"))


@require_POST
def verify_training(request: HttpRequest, accreditation_id: int) -> HttpResponse:
    record = get_object_or_404(Accreditation, pk=accreditation_id)
    permissions.check(request.user, "verify_accreditation", record)
    try:
        accreditation.verify_training(record, verified_by=request.user)
    except accreditation.AccreditationError as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, f"{record.course} for {record.user.username} is verified.")
    return HttpResponseRedirect(reverse("people:checks"))
