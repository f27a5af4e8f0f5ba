"""The administrator's People pages: every account, creating one, and changing one.

Each change takes a reason. Services make the change and write it to the audit log; a change
they refuse is audited here too, with nothing changed, and the page says why.
"""

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from havenkit.core import audit, permissions
from havenkit.core.models import Outcome
from havenkit.core.roles import Role
from havenkit.people import accounts, accreditation
from havenkit.people.forms import (
    NewAccountForm,
    NhsForm,
    OneTimePasswordForm,
    ReasonForm,
    RoleChangeForm,
)
from havenkit.people.models import User
from havenkit.people.signin import has_authenticator

PEOPLE_PER_PAGE = 25


def _refused(
    request: HttpRequest,
    action: str,
    form: NhsForm,
    refusal: accounts.AccountError,
    person: User | None = None,
) -> None:
    """Show the refusal on the field it is about, and audit it."""
    form.add_error(refusal.field if refusal.field in form.fields else None, str(refusal))
    audit.record(
        action,
        request=request,
        obj=person,
        outcome=Outcome.FAILURE,
        details={"refused": str(refusal)},
    )


def _page_url(search: str, number: int) -> str:
    query = {"q": search, "page": number} if search else {"page": number}
    return f"{reverse('people:people')}?{urlencode(query)}"


def people(request: HttpRequest) -> HttpResponse:
    """Every account with its roles, accreditation, second factor and whether it is active."""
    permissions.check(request.user, "manage_people")
    search = request.GET.get("q", "").strip()
    page = Paginator(accounts.people_matching(search), PEOPLE_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {
        "search": search,
        "page": page,
        "rows": [(person, accreditation.accreditation_state(person)) for person in page],
        "previous_url": _page_url(search, page.previous_page_number())
        if page.has_previous()
        else "",
        "next_url": _page_url(search, page.next_page_number()) if page.has_next() else "",
    }
    return render(request, "people/people.html", context)


@require_http_methods(["GET", "POST"])
def new_person(request: HttpRequest) -> HttpResponse:
    """Create an account; its one-time password is shown on the response once, or e-mailed."""
    permissions.check(request.user, "manage_people")
    form = NewAccountForm(request.POST or None)
    if form.is_valid():
        data = form.cleaned_data
        try:
            person, password = accounts.create_account(
                username=data["username"],
                full_name=data["full_name"],
                email=data["email"],
                roles=data["roles"],
                created_by=request.user,
            )
        except accounts.AccountError as refusal:
            _refused(request, "person.created", form, refusal)
        else:
            return _hand_over(request, person, password, data, new_account=True)
    status = 400 if form.errors else 200
    return render(request, "people/new_person.html", {"form": form}, status=status)


def _hand_over(
    request: HttpRequest, person: User, password: str, data: dict[str, Any], *, new_account: bool
) -> HttpResponse:
    """Show a one-time password once, or e-mail it and say so.

    Rendered, not redirected: the password is never stored to be shown later.
    """
    if data["send_by_email"]:
        accounts.email_one_time_password(
            person, password, sent_by=request.user, new_account=new_account
        )
        password = ""
    context = {
        "person": person,
        "password": password,
        "new_account": new_account,
        "has_authenticator": has_authenticator(person),
    }
    return render(request, "people/one_time_password.html", context)


def _offer_roles(form: RoleChangeForm, roles: list[Role]) -> RoleChangeForm:
    form.fields["role"].choices = [("", "Choose a role"), *((r.value, r.label) for r in roles)]
    return form


def _person_page(
    request: HttpRequest, person: User, failed: dict[str, NhsForm] | None = None
) -> HttpResponse:
    """The person's account and a form for each change; a failed form comes back with errors."""
    failed = failed or {}
    held = [Role(name) for name in person.role_names()]
    context = {
        "person": person,
        "grants": person.role_grants.select_related("granted_by").order_by("role"),
        "accreditation_state": accreditation.accreditation_state(person),
        "has_authenticator": has_authenticator(person),
        "grant_form": _offer_roles(
            failed.get("grant", RoleChangeForm(prefix="grant")),
            [role for role in Role if role not in held],
        ),
        "revoke_form": _offer_roles(failed.get("revoke", RoleChangeForm(prefix="revoke")), held),
        "status_form": failed.get("status", ReasonForm(prefix="status")),
        "reset_form": failed.get("reset", ReasonForm(prefix="reset")),
        "password_form": failed.get("password", OneTimePasswordForm(prefix="password")),
        # The error summary at the top of the page is for the form that failed.
        "form": next(iter(failed.values()), None),
    }
    return render(request, "people/person.html", context, status=400 if failed else 200)


def person(request: HttpRequest, person_id: int) -> HttpResponse:
    permissions.check(request.user, "manage_people")
    return _person_page(request, get_object_or_404(User, pk=person_id))


Change = Callable[..., Any]
# What to answer after a change: given the request, the person, the form's data and what the
# change returned.
Done = Callable[[HttpRequest, User, dict[str, Any], Any], HttpResponse]


def _back_to_person(message: Callable[[User, dict[str, Any]], str]) -> Done:
    """After most changes: back to the person's page, saying what happened."""

    def done(
        request: HttpRequest, person: User, data: dict[str, Any], _result: Any
    ) -> HttpResponse:
        messages.success(request, message(person, data))
        return HttpResponseRedirect(reverse("people:person", args=[person.pk]))

    return done


def _change_account(
    request: HttpRequest,
    person_id: int,
    *,
    rule: str,
    prefix: str,
    form_class: type[NhsForm],
    action: str,
    change: Change,
    done: Done,
) -> HttpResponse:
    """One change to an account: check who, validate, let the service act, say what happened."""
    person = get_object_or_404(User, pk=person_id)
    permissions.check(request.user, rule, person)
    form = form_class(request.POST, prefix=prefix)
    if form.is_valid():
        try:
            result = change(person, **form.cleaned_data, by=request.user)
        except accounts.AccountError as refusal:
            _refused(request, action, form, refusal, person)
        else:
            return done(request, person, form.cleaned_data, result)
    return _person_page(request, person, failed={prefix: form})


@require_POST
def grant_role(request: HttpRequest, person_id: int) -> HttpResponse:
    return _change_account(
        request,
        person_id,
        rule="manage_people",
        prefix="grant",
        form_class=RoleChangeForm,
        action="role.granted",
        change=accounts.grant,
        done=_back_to_person(
            lambda p, data: f"{p.username} now has the {Role(data['role']).label} role."
        ),
    )


@require_POST
def revoke_role(request: HttpRequest, person_id: int) -> HttpResponse:
    return _change_account(
        request,
        person_id,
        rule="manage_people",
        prefix="revoke",
        form_class=RoleChangeForm,
        action="role.revoked",
        change=accounts.revoke,
        done=_back_to_person(
            lambda p, data: f"{p.username} no longer has the {Role(data['role']).label} role."
        ),
    )


@require_POST
def deactivate(request: HttpRequest, person_id: int) -> HttpResponse:
    return _change_account(
        request,
        person_id,
        rule="deactivate_account",
        prefix="status",
        form_class=ReasonForm,
        action="person.deactivated",
        change=accounts.deactivate,
        done=_back_to_person(
            lambda p, data: f"{p.username}'s account is deactivated and signed out everywhere."
        ),
    )


@require_POST
def reactivate(request: HttpRequest, person_id: int) -> HttpResponse:
    return _change_account(
        request,
        person_id,
        rule="manage_people",
        prefix="status",
        form_class=ReasonForm,
        action="person.reactivated",
        change=accounts.reactivate,
        done=_back_to_person(lambda p, data: f"{p.username}'s account is active again."),
    )


@require_POST
def reset_second_factor(request: HttpRequest, person_id: int) -> HttpResponse:
    return _change_account(
        request,
        person_id,
        rule="reset_second_factor",
        prefix="reset",
        form_class=ReasonForm,
        action="person.second_factor_reset",
        change=accounts.reset_second_factor,
        done=_back_to_person(
            lambda p, data: (
                f"{p.username}'s authenticator and recovery codes are removed. They keep their "
                "password and set up an authenticator again at their next sign-in."
            )
        ),
    )


@require_POST
def issue_one_time_password(request: HttpRequest, person_id: int) -> HttpResponse:
    """A new one-time password for a person who forgot theirs; shown once or e-mailed."""
    return _change_account(
        request,
        person_id,
        rule="issue_one_time_password",
        prefix="password",
        form_class=OneTimePasswordForm,
        action="person.one_time_password_issued",
        change=lambda person, *, reason, send_by_email, by: accounts.issue_one_time_password(
            person, by=by, reason=reason
        ),
        done=lambda request, person, data, password: _hand_over(
            request, person, password, data, new_account=False
        ),
    )
