"""The public register lists approved projects to anyone, without signing in."""

import datetime

import pytest
from django.test import Client

from havenkit.core.roles import Role
from havenkit.projects import services
from havenkit.projects.models import Project, ProjectStatus

pytestmark = pytest.mark.django_db


def test_register_shows_active_projects_without_sign_in(make_person):
    pi = make_person(Role.RESEARCHER, Role.PI)
    approver = make_person(Role.APPROVER)
    services.create_active_project(
        reference="HK-2026-042",
        title="Statins and stroke",
        organisation="University of Dundee",
        lay_summary="Do statins prevent strokes?",
        public_benefit="Better prescribing.",
        pi=pi,
        researchers=[],
        datasets_used="Prescribing",
        start_date=datetime.date(2026, 1, 1),
        end_date=datetime.date(2030, 1, 1),
        approved_by=approver,
    )
    Project.objects.create(
        reference="HK-2026-043",
        title="A draft nobody approved",
        organisation="Nowhere",
        lay_summary="-",
        public_benefit="-",
        pi=pi,
        status=ProjectStatus.DRAFT,
    )
    response = Client().get("/register/")
    assert response.status_code == 200
    assert b"Statins and stroke" in response.content
    assert b"Better prescribing." in response.content
    assert b"A draft nobody approved" not in response.content
    assert pi.username.encode() not in response.content
