"""The ingress airlock in a real Chromium, with two people: dan (data steward) uploads a file
with one bad CHI and sees the problem by row and column, uploads a corrected file, cannot
approve it himself; alex (approver) approves it, and the new table appears in the public
catalogue."""

import re

from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import Instance, assert_accessible, sign_in

SCHEMA = (
    "name,type,required,key,identifier,quasi_identifier,allowed_values,description\n"
    "chi,chi,yes,yes,yes,no,,CHI number of the person\n"
    "sex,string,yes,no,no,yes,F|M,Sex\n"
    "ward,string,no,no,no,no,,Ward the person was screened on\n"
)
BAD_FILE = b"chi,sex,ward\n0211165794,M,Ward 4\n02111657A4,F,Ward 7\n"
GOOD_FILE = b"chi,sex,ward\n0211165794,M,Ward 4\n0402070763,F,Ward 7\n0101011237,M,\n"


def new_page(browser: Browser) -> Page:
    return browser.new_context(accept_downloads=True).new_page()


def menu(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Menu").get_by_role("link", name=name).click()


def upload(page: Page, content: bytes) -> None:
    menu(page, "Ingress airlock")
    assert_accessible(page)
    page.get_by_role("link", name="Upload a file").click()
    assert_accessible(page)
    page.get_by_label("Dataset", exact=True).fill("Scottish synthetic cohort")
    page.get_by_label("Table name").fill("screening")
    page.get_by_label("File").set_input_files(
        {"name": "screening.csv", "mimeType": "text/csv", "buffer": content}
    )
    page.get_by_label("Declared schema").fill(SCHEMA)
    page.get_by_role("button", name="Upload and check").click()


def test_ingress_needs_a_second_person(browser: Browser, instance: Instance):
    steward = new_page(browser)
    sign_in(steward, instance, "dan")
    upload(steward, BAD_FILE)
    expect(steward.get_by_role("heading", level=1)).to_contain_text("screening.csv")
    expect(steward.get_by_text("Failed validation")).to_be_visible()
    problem = steward.get_by_role("row", name=re.compile("^2 chi"))
    expect(problem).to_contain_text("contains characters other than the digits 0-9")
    assert_accessible(steward)
    with steward.expect_download() as download:
        steward.get_by_role("link", name="Download every problem as CSV").click()
    assert download.value.path().read_text().splitlines()[1].startswith("2,chi,")

    upload(steward, GOOD_FILE)
    expect(steward.get_by_text("Awaiting review", exact=True)).to_be_visible()
    expect(steward.get_by_text("3 by modulus 11")).to_be_visible()
    expect(steward.get_by_text(re.compile("cannot approve your own upload"))).to_be_visible()
    expect(steward.get_by_role("button", name="Record decision")).to_have_count(0)
    assert_accessible(steward)
    upload_url = steward.url

    approver = new_page(browser)
    sign_in(approver, instance, "alex")
    menu(approver, "Ingress airlock")
    assert_accessible(approver)
    approver.goto(upload_url)
    approver.get_by_label(re.compile("^Approve")).check()
    approver.get_by_label("Comment").fill("Matches the data sharing agreement.")
    approver.get_by_role("button", name="Record decision").click()
    expect(approver.get_by_text("Approved", exact=True)).to_be_visible()
    expect(approver.get_by_text(re.compile("^Scottish synthetic cohort v2"))).to_be_visible()
    assert_accessible(approver)

    menu(approver, "Data catalogue")
    assert_accessible(approver)
    approver.get_by_label("Search datasets and variables").fill("screened")
    approver.get_by_role("button", name="Search").click()
    approver.get_by_role("link", name="Scottish synthetic cohort").click()
    expect(approver.get_by_text("Table screening: fewer than 10 rows")).to_be_visible()
    expect(approver.get_by_text("Ward 4")).to_have_count(0)
    assert_accessible(approver)

    audit = instance.havenkit("audit", "verify")
    assert audit.returncode == 0, audit.stderr
