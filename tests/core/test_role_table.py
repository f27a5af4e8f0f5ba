"""Every view, every role: allowed gets the page, forbidden gets 403 and an audit event,
anonymous gets the login page.

The table below is the single statement of who reaches which page; it is checked against the
real views, which ask ``core.permissions``.
"""

from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import reverse

from havenkit.core.models import AuditEvent, Outcome
from havenkit.core.roles import Role
from havenkit.data import imports
from havenkit.outputs import services as outputs
from havenkit.outputs.services import FileChoice
from havenkit.workspaces.models import CodeFile
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

# Who is who: "member" wrote the release requests; "pi" is a member who did not; "outsider" is
# a researcher on no project; "checker" is an output checker outside the project.
ACTORS = (
    "member",
    "pi",
    "outsider",
    "checker",
    "data_steward",
    "approver",
    "administrator",
    "auditor",
)
EVERYONE = frozenset(ACTORS)
MEMBERS = frozenset({"member", "pi"})


@dataclass(frozen=True)
class Page:
    name: str
    method: str
    allowed: frozenset[str]

    def __str__(self) -> str:
        return f"{self.method} {self.name}"


PAGES = [
    Page("core:home", "GET", EVERYONE),
    Page("core:audit_log", "GET", frozenset({"auditor"})),
    Page("core:audit_log_csv", "GET", frozenset({"auditor"})),
    Page("workspaces:workspace", "GET", MEMBERS),
    Page("workspaces:code_file", "GET", MEMBERS),
    Page("workspaces:code_version", "GET", MEMBERS),
    Page("workspaces:run_job", "POST", MEMBERS),
    Page("workspaces:job", "GET", MEMBERS),
    Page("workspaces:job_status", "GET", MEMBERS),
    Page("workspaces:cancel_job", "POST", MEMBERS),
    Page("workspaces:run_again", "POST", MEMBERS),
    Page("outputs:project_requests", "GET", MEMBERS),
    Page("outputs:new_request", "GET", MEMBERS),
    Page("outputs:review_queue", "GET", frozenset({"checker"})),
    Page("outputs:release_request", "GET", MEMBERS | {"checker"}),
    Page("outputs:view_file", "GET", MEMBERS | {"checker"}),
    Page("outputs:review_file", "POST", frozenset({"checker"})),
    Page("outputs:add_file", "POST", frozenset({"member"})),
    Page("outputs:remove_file", "POST", frozenset({"member"})),
    Page("outputs:submit", "POST", frozenset({"member"})),
    Page("outputs:withdraw", "POST", frozenset({"member"})),
    Page("outputs:reply_to_review", "POST", MEMBERS),
    Page("outputs:download_file", "GET", MEMBERS),
    Page("outputs:download_package", "GET", MEMBERS),
    Page("outputs:download_record", "GET", MEMBERS),
    Page("data:ingress", "GET", frozenset({"data_steward", "approver"})),
    Page("data:ingress_new", "GET", frozenset({"data_steward"})),
    Page("data:extracts", "GET", frozenset({"data_steward"})),
    Page("data:project_imports", "GET", MEMBERS),
    Page("data:project_import", "GET", MEMBERS | {"data_steward", "approver"}),
    Page("data:review_project_import", "POST", frozenset({"data_steward", "approver"})),
    Page("applications:index", "GET", EVERYONE),
    Page("applications:start", "POST", frozenset({"pi"})),
    Page("applications:membership_requests", "GET", frozenset({"approver"})),
    Page("applications:access_report", "GET", frozenset({"auditor", "data_steward"})),
    Page(
        "applications:haven_report",
        "GET",
        frozenset({"auditor", "data_steward", "administrator", "approver"}),
    ),
    Page("people:my_accreditation", "GET", EVERYONE),
    Page("people:checks", "GET", frozenset({"administrator"})),
    Page("people:people", "GET", frozenset({"administrator"})),
    Page("people:new_person", "GET", frozenset({"administrator"})),
    Page("people:new_person", "POST", frozenset({"administrator"})),
    Page("people:person", "GET", frozenset({"administrator"})),
    Page("people:grant_role", "POST", frozenset({"administrator"})),
    Page("people:revoke_role", "POST", frozenset({"administrator"})),
    Page("people:deactivate", "POST", frozenset({"administrator"})),
    Page("people:reactivate", "POST", frozenset({"administrator"})),
    Page("people:reset_second_factor", "POST", frozenset({"administrator"})),
    Page("people:issue_one_time_password", "POST", frozenset({"administrator"})),
    Page("people:change_password", "GET", EVERYONE),
    Page("people:change_password", "POST", EVERYONE),
]


PEOPLE_PAGES_ABOUT_A_PERSON = {
    "people:person",
    "people:grant_role",
    "people:revoke_role",
    "people:deactivate",
    "people:reactivate",
    "people:reset_second_factor",
    "people:issue_one_time_password",
}


def _people(haven, make_person) -> dict[str, object]:
    return {
        "member": haven.researcher,
        "pi": haven.pi,
        "outsider": make_person(Role.RESEARCHER, username="outsider"),
        "checker": haven.checker_a,
        "data_steward": make_person(Role.DATA_STEWARD, username="steward"),
        "approver": make_person(Role.APPROVER, username="approver"),
        "administrator": make_person(Role.ADMINISTRATOR, username="admin"),
        "auditor": make_person(Role.AUDITOR, username="auditor"),
    }


def _url(page: Page, haven) -> str:
    """The page's address for objects of the haven fixture, in the state the page needs."""
    project, job = haven.project, haven.job
    app = page.name.split(":")[0]
    if page.name == "data:project_imports":
        return reverse(page.name, args=[project.pk])
    if page.name in ("data:project_import", "data:review_project_import"):
        project_import = imports.receive_import(
            project=project,
            file_name="model.py",
            chunks=[b"print(1)\n"],
            purpose="To check who sees it.",
            uploaded_by=haven.researcher,
        )
        return reverse(page.name, args=[project_import.pk])
    if page.name in PEOPLE_PAGES_ABOUT_A_PERSON:
        return reverse(page.name, args=[haven.researcher.pk])
    if app in ("core", "data", "applications", "people"):
        return reverse(page.name)
    if app == "workspaces":
        code_file = CodeFile.objects.get(project=project)
        args = {
            "workspace": [project.pk],
            "code_file": [project.pk, code_file.pk],
            "run_job": [project.pk, code_file.pk],
            "code_version": [project.pk, code_file.pk, 1],
        }.get(page.name.split(":")[1], [project.pk, job.pk])
        return reverse(page.name, args=args)
    if page.name in ("outputs:project_requests", "outputs:new_request"):
        return reverse(page.name, args=[project.pk])
    if page.name == "outputs:review_queue":
        return reverse(page.name)
    release_request = outputs.create_release_request(
        project, haven.researcher, [FileChoice(job.pk, "table.csv", "Patients by region")]
    )
    if page.name in (
        "outputs:download_file",
        "outputs:download_package",
        "outputs:download_record",
    ):
        outputs.submit(release_request, haven.researcher)
        for checker in (haven.checker_a, haven.checker_b):
            outputs.review_file(release_request.files.get(), checker, "approved")
    elif page.name != "outputs:add_file":
        outputs.submit(release_request, haven.researcher)
    if page.name in ("outputs:release_request", "outputs:submit", "outputs:withdraw"):
        return reverse(page.name, args=[release_request.pk])
    if page.name in ("outputs:add_file", "outputs:download_package", "outputs:download_record"):
        return reverse(page.name, args=[release_request.pk])
    if page.name == "outputs:reply_to_review":
        release_file = release_request.files.get()
        outputs.review_file(release_file, haven.checker_b, "changes_requested", "Round to 5")
        return reverse(page.name, args=[release_request.pk, release_file.reviews.get().pk])
    return reverse(page.name, args=[release_request.pk, release_request.files.get().pk])


def _denials(person) -> int:
    return AuditEvent.objects.filter(
        action="access.denied", actor=person, outcome=Outcome.DENIED
    ).count()


@pytest.mark.parametrize("page", PAGES, ids=str)
def test_every_role_gets_what_the_table_says(page: Page, haven, make_person):
    people = _people(haven, make_person)
    url = _url(page, haven)
    wrong = []
    for actor in ACTORS:
        person = people[actor]
        client = sign_in(Client(), person)
        before = _denials(person)
        response = client.get(url) if page.method == "GET" else client.post(url, {})
        if actor in page.allowed:
            expected_ok = response.status_code != 403 and "/login/" not in response.get(
                "Location", ""
            )
            if page.method == "GET":
                expected_ok = expected_ok and response.status_code == 200
            if not expected_ok:
                wrong.append(f"{actor} should be allowed, got {response.status_code}")
        elif response.status_code != 403 or _denials(person) != before + 1:
            wrong.append(f"{actor} should get 403 and an audit event, got {response.status_code}")
    assert wrong == [], f"{page} at {url}: {wrong}"


@pytest.mark.parametrize("page", PAGES, ids=str)
def test_anonymous_visitors_are_sent_to_sign_in(page: Page, haven):
    url = _url(page, haven)
    client = Client()
    response = client.get(url) if page.method == "GET" else client.post(url, {})
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_the_public_register_is_open_to_everyone(haven, make_person):
    assert Client().get(reverse("projects:register")).status_code == 200
    for person in _people(haven, make_person).values():
        assert sign_in(Client(), person).get(reverse("projects:register")).status_code == 200


def test_the_release_key_is_open_to_everyone(haven, make_person):
    """Public like the register: anyone checking released outputs needs the haven's key."""
    url = reverse("projects:release_key")
    assert Client().get(url).status_code == 200
    for person in _people(haven, make_person).values():
        assert sign_in(Client(), person).get(url).status_code == 200
