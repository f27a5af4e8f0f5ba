"""Sign-in pages: password, then code, with first-login setup in between when it is due.

A person who has an authenticator and a one-time password gives password, code, then a new
password; a person with no authenticator yet sets up everything before their first code.

The ``next`` page a person asked for travels with them through every step as a query
parameter (or hidden field), and is only ever followed when it is a path on this site.
"""

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from havenkit.people import first_login, signin
from havenkit.people.first_login import Step
from havenkit.people.forms import (
    EnrolmentCodeForm,
    NewPasswordForm,
    SecondFactorForm,
    SignInForm,
)

STEP_URL_NAMES = {
    Step.PASSWORD: "people:setup_password",
    Step.AUTHENTICATOR: "people:setup_authenticator",
    Step.RECOVERY_CODES: "people:setup_recovery_codes",
}


def _next_url(request: HttpRequest) -> str:
    """The page to land on after sign-in, if it is a relative path on this site; else ''."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    is_relative_path = candidate.startswith("/") and not candidate.startswith("//")
    if is_relative_path and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


def _to(url_name: str, next_url: str) -> HttpResponseRedirect:
    query = f"?{urlencode({'next': next_url})}" if next_url else ""
    return HttpResponseRedirect(reverse(url_name) + query)


def _landing(next_url: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(next_url or reverse("core:home"))


def _continue_setup(request: HttpRequest, next_url: str) -> HttpResponseRedirect:
    """On to the step that is due, or out of setup to the code step or the page asked for."""
    step = first_login.current_step(request)
    if step is not None:
        return _to(STEP_URL_NAMES[step], next_url)
    if request.user.is_verified():
        return _landing(next_url)
    return _to("people:verify", next_url)


@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    next_url = _next_url(request)
    if request.user.is_authenticated and request.user.is_verified():
        return _landing(next_url)
    form = SignInForm(request.POST) if request.method == "POST" else SignInForm()
    if form.is_valid():
        try:
            signin.sign_in_with_password(
                request, form.cleaned_data["username"], form.cleaned_data["password"]
            )
        except signin.SignInRefused as refusal:
            form.add_error(None, str(refusal))
        else:
            if first_login.current_step(request) is not None:
                return _to("people:setup", next_url)
            return _to("people:verify", next_url)
    return render(request, "people/login.html", {"form": form, "next_url": next_url})


@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    next_url = _next_url(request)
    person = request.user
    if not person.is_authenticated:
        return _to("people:login", next_url)
    if person.is_verified():
        return _landing(next_url)
    if first_login.current_step(request) is not None:
        return _to("people:setup", next_url)
    form = SecondFactorForm(request.POST) if request.method == "POST" else SecondFactorForm()
    if form.is_valid():
        try:
            accepted = signin.verify_code(request, form.cleaned_data["code"])
        except signin.SignInRefused as refusal:
            form.add_error("code", str(refusal))
        else:
            if accepted.recovery_codes_left is not None:
                messages.warning(
                    request,
                    f"You signed in with a recovery code. You have "
                    f"{accepted.recovery_codes_left} left; each works only once.",
                )
            return _continue_setup(request, next_url)
    return render(request, "people/verify.html", {"form": form, "next_url": next_url})


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    signin.sign_out(request)
    messages.info(request, "You have signed out.")
    return HttpResponseRedirect(reverse("people:login"))


def setup(request: HttpRequest) -> HttpResponse:
    """The start of first-login setup: sends the person to whichever step is due."""
    next_url = _next_url(request)
    if not request.user.is_authenticated:
        return _to("people:login", next_url)
    return _continue_setup(request, next_url)


SetupView = Callable[[HttpRequest, str], HttpResponse]


def setup_step(step: Step) -> Callable[[SetupView], Callable[[HttpRequest], HttpResponse]]:
    """Open a setup page only when its step is the one due; anything else goes where it should."""

    def decorator(view: SetupView) -> Callable[[HttpRequest], HttpResponse]:
        @wraps(view)
        @never_cache
        @require_http_methods(["GET", "POST"])
        def guarded(request: HttpRequest) -> HttpResponse:
            next_url = _next_url(request)
            if not request.user.is_authenticated:
                return _to("people:login", next_url)
            if first_login.current_step(request) != step:
                return _continue_setup(request, next_url)
            return view(request, next_url)

        return guarded

    return decorator


def _render_step(
    request: HttpRequest, step: Step, next_url: str, **context: object
) -> HttpResponse:
    context.update(next_url=next_url, steps=first_login.progress(request, step))
    return render(request, f"people/setup_{step}.html", context)


@setup_step(Step.PASSWORD)
def setup_password(request: HttpRequest, next_url: str) -> HttpResponse:
    form = NewPasswordForm(request.user, request.POST if request.method == "POST" else None)
    if form.is_valid():
        first_login.change_password(request, form.cleaned_data["new_password"])
        return _continue_setup(request, next_url)
    return _render_step(request, Step.PASSWORD, next_url, form=form)


@setup_step(Step.AUTHENTICATOR)
def setup_authenticator(request: HttpRequest, next_url: str) -> HttpResponse:
    device = first_login.authenticator_being_enrolled(request.user)
    form = EnrolmentCodeForm(request.POST) if request.method == "POST" else EnrolmentCodeForm()
    if form.is_valid():
        try:
            first_login.confirm_authenticator(request, device, form.cleaned_data["code"])
        except signin.SignInRefused as refusal:
            form.add_error("code", str(refusal))
        else:
            return _continue_setup(request, next_url)
    return _render_step(
        request,
        Step.AUTHENTICATOR,
        next_url,
        form=form,
        qr_code=first_login.qr_code_svg(device),
        manual_entry_key=first_login.manual_entry_key(device),
    )


@setup_step(Step.RECOVERY_CODES)
def setup_recovery_codes(request: HttpRequest, next_url: str) -> HttpResponse:
    return _render_step(
        request,
        Step.RECOVERY_CODES,
        next_url,
        codes=first_login.take_recovery_codes_to_show(request),
        continue_url=next_url or reverse("core:home"),
    )
