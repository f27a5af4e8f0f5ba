"""Every page a person may use is reachable from the menu or their home page, and only then."""

import pytest

from havenkit.core.roles import Role

pytestmark = pytest.mark.django_db

MEMBERSHIP_REQUESTS = 'href="/applications/membership-requests/"'
ACCESS_REPORT = 'href="/applications/reports/access/"'
HAVEN_REPORT = 'href="/applications/reports/haven/"'


@pytest.mark.parametrize(
    ("role", "links"),
    [
        (Role.APPROVER, {MEMBERSHIP_REQUESTS, HAVEN_REPORT}),
        (Role.AUDITOR, {ACCESS_REPORT, HAVEN_REPORT}),
        (Role.DATA_STEWARD, {ACCESS_REPORT, HAVEN_REPORT}),
        (Role.ADMINISTRATOR, {HAVEN_REPORT}),
        (Role.RESEARCHER, set()),
        (Role.OUTPUT_CHECKER, set()),
    ],
)
def test_the_home_page_links_the_requests_and_reports_a_role_may_use(signed_in_client, role, links):
    page = signed_in_client(role).get("/").content.decode()
    shown = {link for link in (MEMBERSHIP_REQUESTS, ACCESS_REPORT, HAVEN_REPORT) if link in page}
    assert shown == links


def test_the_approvers_applications_page_links_membership_requests(signed_in_client):
    page = signed_in_client(Role.APPROVER).get("/applications/").content.decode()
    assert MEMBERSHIP_REQUESTS in page
