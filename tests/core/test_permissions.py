"""The permissions module: each rule refuses with a reason a person can act on."""

import datetime
from types import SimpleNamespace

import pytest

from havenkit.core import permissions
from havenkit.core.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(make_person, make_project):
    return make_project(make_person(Role.RESEARCHER, Role.PI, username="pi"), [])


def test_researcher_who_is_not_a_member_is_refused_with_a_reason(make_person, project):
    outsider = make_person(Role.RESEARCHER)
    with pytest.raises(permissions.Denied, match="Only members"):
        permissions.check(outsider, "view_workspace", project)
    assert permissions.can(project.pi, "view_workspace", project)


def test_member_without_researcher_role_is_refused(make_person, project):
    assert not permissions.can(make_person(Role.AUDITOR), "view_workspace", project)


def test_inactive_project_is_read_only(project):
    project.end_date = datetime.date(2020, 1, 1)
    project.save()
    assert permissions.can(project.pi, "view_workspace", project)
    with pytest.raises(permissions.Denied, match="not active"):
        permissions.check(project.pi, "run_job", project)


def test_roles_are_read_on_every_check(make_person):
    auditor = make_person(Role.AUDITOR)
    assert permissions.can(auditor, "view_audit_log")
    auditor.role_grants.all().delete()
    assert not permissions.can(auditor, "view_audit_log")


def test_a_deactivated_account_holds_no_role(make_person):
    auditor = make_person(Role.AUDITOR)
    auditor.is_active = False
    auditor.save()
    assert not permissions.can(auditor, "view_audit_log")


def test_unknown_action_is_refused(make_person):
    with pytest.raises(permissions.Denied, match="Unknown action"):
        permissions.check(make_person(Role.ADMINISTRATOR), "launch_rockets")


def test_only_the_author_may_change_a_release_request(make_person, project):
    author = project.pi
    release_request = SimpleNamespace(project=project, author_id=author.pk)
    assert permissions.can(author, "edit_release_request", release_request)
    checker = make_person(Role.OUTPUT_CHECKER)
    assert not permissions.can(checker, "edit_release_request", release_request)
    assert permissions.can(checker, "review_release_request", release_request)
    checker_author = make_person(Role.RESEARCHER, Role.OUTPUT_CHECKER)
    own_request = SimpleNamespace(project=project, author_id=checker_author.pk)
    with pytest.raises(permissions.Denied, match="your own"):
        permissions.check(checker_author, "review_release_request", own_request)


def test_a_member_whose_accreditation_lapsed_is_still_no_independent_checker(
    make_person, make_project
):
    checker = make_person(Role.RESEARCHER, Role.OUTPUT_CHECKER)
    project = make_project(make_person(Role.RESEARCHER, Role.PI), [checker])
    release_request = SimpleNamespace(project=project, author_id=project.pi_id)
    checker.accreditations.update(expires_on=datetime.date(2020, 1, 1))
    assert not project.has_member(checker)
    with pytest.raises(permissions.Denied, match="members of"):
        permissions.check(checker, "review_release_request", release_request)
