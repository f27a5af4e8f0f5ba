"""Safe projects in a real Chromium: the public register and its CSV, accreditation, a panel
application returned with a question and resubmitted, a fast-track application from draft
to active, a PI asking for a new member and an approver deciding, and the access report with
its CSV. axe-core runs on every page.

The tests share one served instance and run in order: the panel application, once approved,
is the precedent that sends the next application to the fast track. They rely on `demo setup`
clearing its accounts (a verified accreditation and the signed agreement), as a haven would
before giving anyone access.
"""

import csv
import io
import re
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import Instance, assert_accessible, sign_in

DATASET = "Scottish synthetic cohort"
CONTROLLER = "Public Health Scotland"


@pytest.fixture(scope="module")
def person(browser: Browser, instance: Instance) -> Iterator[Callable[[str], Page]]:
    """One signed-in page per demo account, kept for the module: each signs in once."""
    pages: dict[str, Page] = {}

    def page_for(username: str) -> Page:
        if username not in pages:
            page = browser.new_context(accept_downloads=True).new_page()
            sign_in(page, instance, username)
            pages[username] = page
        return pages[username]

    yield page_for
    for page in pages.values():
        page.context.close()


def visit(page: Page, instance: Instance, path: str) -> Page:
    page.goto(f"{instance.url}{path}")
    assert_accessible(page)
    return page


def test_the_public_register_and_its_csv_match(browser: Browser, instance: Instance):
    page = browser.new_context(accept_downloads=True).new_page()
    visit(page, instance, "/register/")
    rows = page.locator("#register-table tbody tr")
    expect(rows.first).to_contain_text("HK-2026-001")
    shown = [[cell.strip() for cell in row.locator("td").all_inner_texts()] for row in rows.all()]
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").click()
    listed = list(csv.DictReader(io.StringIO(download.value.path().read_text())))
    assert [entry["reference"] for entry in listed] == [row[0] for row in shown]
    for entry, row in zip(listed, shown, strict=True):
        assert row[1].startswith(entry["title"])
        assert row[2:] == [
            entry["organisation"],
            entry["datasets"],
            f"{entry['start_date']} to {entry['end_date']}",
            entry["status"],
            entry["track"],
            entry["outputs_released"]
            + (f" (last {entry['last_release']})" if entry["last_release"] else ""),
        ]
    page.get_by_label("Search").fill("no such project anywhere")
    page.get_by_role("button", name="Search the register").click()
    expect(page.get_by_text("No approved projects match.")).to_be_visible()
    assert_accessible(page)
    page.context.close()


def test_priya_renews_training_and_an_administrator_verifies_it(person, instance: Instance):
    priya = visit(person("priya"), instance, "/account/accreditation/")
    priya.get_by_label("Course").fill("Safe Researcher Training")
    priya.get_by_label("Provider").fill("UK Data Service")
    priya.get_by_label("Level").fill("Standard")
    priya.get_by_label("Date passed").fill(date.today().isoformat())
    priya.get_by_label("Expiry date").fill((date.today() + timedelta(days=3 * 365)).isoformat())
    priya.get_by_label("Certificate").set_input_files(
        {"name": "certificate.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 demo"}
    )
    priya.get_by_role("button", name="Record training").click()
    expect(priya.get_by_text("Awaiting verification")).to_be_visible()
    # The demo signed the agreement for her when it created her account.
    expect(priya.get_by_text("You have signed version")).to_be_visible()
    assert_accessible(priya)

    ada = visit(person("ada"), instance, "/people/checks/")
    ada.get_by_role("button", name="Verify Safe Researcher Training for priya").click()
    expect(ada.get_by_text("Safe Researcher Training for priya is verified.")).to_be_visible()
    assert_accessible(ada)
    visit(priya, instance, "/account/accreditation/")
    expect(priya.get_by_text("You are cleared to work in your projects.")).to_be_visible()
    expect(priya.get_by_text("Awaiting verification")).to_have_count(0)


def save_and_continue(page: Page, next_heading: str) -> None:
    page.get_by_role("button", name="Save and continue").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(next_heading)
    assert_accessible(page)


def fill_application(page: Page, instance: Instance, title: str) -> str:
    """Start an application and fill every step; return its page's path."""
    visit(page, instance, "/applications/")
    page.get_by_role("button", name="Start a new application").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("About the project")
    assert_accessible(page)
    page.get_by_label("Title").fill(title)
    page.get_by_label("Lay summary").fill("Who is admitted with heart attacks, and where.")
    page.get_by_label("Public benefit").fill("Prevention where it is needed most.")
    page.get_by_label("Purpose").fill("A cohort study of admissions.")
    save_and_continue(page, "Data")
    page.get_by_label(DATASET).check()
    # htmx lists the ticked dataset's variables, a group per table, to tick.
    people = page.get_by_role("group", name=f"{DATASET}, table people")
    people.get_by_label("sex", exact=True).check()
    assert_accessible(page)
    save_and_continue(page, "Governance")
    page.get_by_label("Outputs expected").fill("Rates by deprivation quintile.")
    page.get_by_label("Legal basis").fill("UK GDPR 6(1)(e) and 9(2)(j)")
    page.get_by_label("Ethics reference").fill("REC 26/SS/0001")
    page.get_by_label("Data controller").fill(CONTROLLER)
    page.get_by_label("Funder").fill("Chief Scientist Office")
    save_and_continue(page, "Team and dates")
    page.get_by_label("Start date").fill(date.today().isoformat())
    page.get_by_label("End date").fill((date.today() + timedelta(days=365)).isoformat())
    save_and_continue(page, "Check and submit")
    expect(page.get_by_role("listitem").filter(has_text=f"{DATASET}: people.sex")).to_be_visible()
    page.get_by_role("button", name="Submit the application").click()
    expect(page.get_by_text(re.compile(r"Application HK-\d{4}-\d{3} submitted"))).to_be_visible()
    assert_accessible(page)
    return page.url.removeprefix(instance.url)


def state_of(page: Page) -> str:
    return page.locator("#application-state").inner_text()


def vote(page: Page, instance: Instance, path: str, button: str, comment: str) -> None:
    visit(page, instance, path)
    page.get_by_label("Comment").fill(comment)
    page.get_by_role("button", name=button).click()
    expect(page.get_by_text("Your vote is recorded.")).to_be_visible()


def test_a_panel_application_returned_with_a_question_and_resubmitted(person, instance: Instance):
    priya, alex, dan = person("priya"), person("alex"), person("dan")
    path = fill_application(priya, instance, "Heart attacks and deprivation, linked")
    assert state_of(priya) == "Panel review"
    expect(priya.get_by_text("no precedent: panel review").first).to_be_visible()

    visit(alex, instance, path)
    expect(alex.get_by_text("Risk score")).to_be_visible()
    alex.get_by_label("Panel members").fill("alex, dan")
    alex.get_by_label("Chair").fill("alex")
    alex.get_by_role("button", name="Assign the panel").click()
    expect(alex.get_by_text("Panel assigned.")).to_be_visible()
    vote(alex, instance, path, "Vote to return with questions", "Why this variable?")
    vote(dan, instance, path, "Vote to return with questions", "Agree with the chair.")
    visit(alex, instance, path)
    alex.get_by_label("Questions, if returning").fill("Why do you need this variable?")
    alex.get_by_role("button", name="Record: the panel returns it with questions").click()
    expect(alex.locator("#application-state")).to_have_text("Returned")

    visit(priya, instance, path)
    expect(priya.get_by_role("paragraph").filter(has_text="Why do you need")).to_be_visible()
    priya.get_by_label("Your answer to question 1").fill("It defines the cohort's area.")
    priya.get_by_role("button", name="Save answer 1").click()
    expect(priya.get_by_text("Answer saved.")).to_be_visible()
    assert_accessible(priya)
    priya.get_by_role("button", name="Resubmit the application").click()
    expect(priya.locator("#application-state")).to_have_text("Panel review")
    expect(priya.get_by_text("It defines the cohort's area.").first).to_be_visible()

    vote(alex, instance, path, "Vote to approve", "Answered.")
    vote(dan, instance, path, "Vote to approve", "Content.")
    visit(alex, instance, path)
    alex.get_by_label("The panel's decision, in words").fill("Approved after the answer.")
    alex.get_by_role("button", name="Record: the panel approves").click()
    expect(alex.locator("#application-state")).to_have_text("Approved")
    alex.get_by_role("button", name="Make the project active").click()
    expect(alex.locator("#application-state")).to_have_text("Active")
    assert_accessible(alex)


def test_a_fast_track_application_from_draft_to_active(person, instance: Instance):
    priya, alex = person("priya"), person("alex")
    path = fill_application(priya, instance, "Heart attacks and deprivation, follow-up")
    assert state_of(priya) == "Fast track"
    precedent = priya.get_by_text(re.compile(r"precedent HK-\d{4}-\d{3}: fast track"))
    expect(precedent.first).to_be_visible()

    visit(alex, instance, path)
    alex.get_by_label("Note to the PI").fill("Follows the earlier approved study.")
    alex.get_by_role("button", name="Approve").click()
    expect(alex.locator("#application-state")).to_have_text("Approved")
    alex.get_by_role("button", name="Make the project active").click()
    expect(alex.locator("#application-state")).to_have_text("Active")

    visit(priya, instance, path)
    timeline = priya.locator("table").first
    for state in ["Draft", "Submitted", "In triage", "Fast track", "Approved", "Active"]:
        expect(timeline).to_contain_text(state)
    visit(priya, instance, "/")
    expect(priya.get_by_text("Heart attacks and deprivation, follow-up")).to_be_visible()


def test_a_pi_asks_for_a_member_from_the_workspace_and_an_approver_decides(
    person, instance: Instance
):
    priya, alex = person("priya"), person("alex")
    visit(priya, instance, "/")
    priya.get_by_role("link", name=re.compile("Heart attacks and deprivation, follow-up")).click()
    assert_accessible(priya)
    priya.get_by_role("link", name=re.compile("ask to add or remove someone")).click()
    expect(priya.get_by_role("heading", level=1)).to_contain_text("Members")
    assert_accessible(priya)

    priya.get_by_label("Username of the person").fill("ghost")
    priya.get_by_label("Membership end date").fill((date.today() + timedelta(days=90)).isoformat())
    priya.get_by_label("Why").fill("Analyst for the follow-up.")
    priya.get_by_role("button", name="Send the request to an approver").click()
    expect(priya.locator(".nhsuk-error-summary")).to_contain_text(
        "There is nobody with the username 'ghost'"
    )
    assert_accessible(priya)

    priya.get_by_label("Username of the person").fill("rachel")
    priya.get_by_label("Membership end date").fill((date.today() + timedelta(days=90)).isoformat())
    priya.get_by_label("Why").fill("Analyst for the follow-up.")
    priya.get_by_role("button", name="Send the request to an approver").click()
    expect(priya.get_by_text("Your request has gone to an approver.")).to_be_visible()
    assert_accessible(priya)
    members_path = priya.url.removeprefix(instance.url)

    visit(alex, instance, "/applications/membership-requests/")
    card = alex.locator(".nhsuk-card").filter(has_text="rachel")
    expect(card).to_contain_text(re.compile(r"Can be approved\?\s*Yes"))
    card.get_by_role("button", name=re.compile("Approve request")).click()
    expect(alex.get_by_text(re.compile(r"Request \d+ decided."))).to_be_visible()
    expect(alex.get_by_text("No membership requests are waiting.")).to_be_visible()
    assert_accessible(alex)

    visit(priya, instance, members_path)
    current = priya.get_by_role("table", name="Current members")
    expect(current).to_contain_text("(rachel)")
    expect(priya.get_by_role("table", name="Requests to change members")).to_contain_text(
        "Approved"
    )


def test_the_access_report_and_its_csv_match(person, instance: Instance):
    aud = visit(person("aud"), instance, "/applications/reports/access/")
    aud.get_by_label("Dataset").select_option(label=DATASET)
    aud.get_by_label("From").fill((date.today() - timedelta(days=1)).isoformat())
    aud.get_by_label("To").fill(date.today().isoformat())
    aud.get_by_role("button", name="Show the report").click()
    rows = aud.get_by_role("table", name=f"Uses of {DATASET}").locator("tbody tr")
    expect(rows.first).to_contain_text("HK-2026-001")
    assert_accessible(aud)
    shown = [row.locator("td").all_inner_texts() for row in rows.all()]
    with aud.expect_download() as download:
        aud.get_by_role("link", name="Download this report as CSV").click()
    listed = list(csv.reader(io.StringIO(download.value.path().read_text())))
    assert listed[0] == ["when", "person", "project", "what", "left the haven"]
    london = ZoneInfo("Europe/London")
    as_page = [
        [datetime.fromisoformat(when).astimezone(london).strftime("%Y-%m-%d %H:%M"), *rest]
        for when, *rest in listed[1:]
    ]
    assert as_page == [[cell.strip() for cell in row] for row in shown]
