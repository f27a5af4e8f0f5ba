"""What stands in front of every page: CSRF, the second factor, safe redirects, idle sessions."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from havenkit.core.models import Outcome
from havenkit.core.roles import Role
from tests.conftest import PASSWORD
from tests.people.helpers import authenticator_of, code_from, events, give_password

pytestmark = pytest.mark.django_db


def test_anonymous_visit_to_home_is_sent_to_login_with_next(client):
    assert client.get("/")["Location"] == "/login/?next=%2F"


def test_password_alone_does_not_open_the_audit_log(client, make_person):
    person = make_person(Role.AUDITOR)
    give_password(client, person.username)
    assert client.get("/audit/")["Location"] == "/login/verify/"


def test_forged_csrf_token_on_the_login_form_is_refused_and_audited(make_person):
    person = make_person(Role.AUDITOR)
    client = Client(enforce_csrf_checks=True)
    client.get("/login/")
    response = client.post(
        "/login/",
        {"username": person.username, "password": PASSWORD, "csrfmiddlewaretoken": "forged"},
    )
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session
    [rejected] = events("security.csrf_rejected")
    assert rejected.outcome == Outcome.DENIED
    assert rejected.details["path"] == "/login/"
    assert events("login.failed") == []


@pytest.mark.parametrize(
    "next_url",
    ["https://evil.example/", "//evil.example/", "/\\evil.example/", "javascript:alert(1)"],
)
def test_next_pointing_off_site_is_dropped(client, make_person, next_url):
    person = make_person(Role.AUDITOR)
    response = client.post(
        "/login/", {"username": person.username, "password": PASSWORD, "next": next_url}
    )
    assert response["Location"] == "/login/verify/"
    response = client.post(
        "/login/verify/", {"code": code_from(authenticator_of(person)), "next": next_url}
    )
    assert response["Location"] == "/"


def _expire_session_in(client: Client, delta: timedelta) -> None:
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() + delta
    )


def test_session_idle_longer_than_the_limit_is_sent_to_login(signed_in_client):
    client = signed_in_client(Role.AUDITOR)
    assert client.get("/audit/").status_code == 200
    _expire_session_in(client, timedelta(seconds=-1))
    assert client.get("/audit/")["Location"] == "/login/?next=%2Faudit%2F"


def test_activity_keeps_the_session_alive(signed_in_client):
    client = signed_in_client(Role.AUDITOR)
    assert settings.SESSION_COOKIE_AGE == settings.SESSION_IDLE_MINUTES * 60
    _expire_session_in(client, timedelta(minutes=1))
    assert client.get("/audit/").status_code == 200
    session = Session.objects.get(session_key=client.session.session_key)
    idle_allowance = session.expire_date - timezone.now()
    assert idle_allowance > timedelta(seconds=settings.SESSION_COOKIE_AGE - 60)
