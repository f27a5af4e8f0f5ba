"""Bringing code and a reference table into a project through the airlock, in a real Chromium,
with two people: rachel (researcher) brings in a binary file (refused at once), a code file and
a lookup table holding CHI numbers; dan (data steward) sees the code highlighted and the table's
CHI-like column flagged, approves the code and rejects the table; rachel sees both outcomes and
finds the code in her workspace."""

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import Instance, assert_accessible, sign_in

pytestmark = pytest.mark.e2e

CODE = b"import pandas as pd\n\nprint(pd.__version__)\n"
LOOKUP = b"person,band\n0101011237,low\n0211165794,high\n"


def bring_in(page: Page, name: str, content: bytes, purpose: str) -> None:
    page.get_by_label("File", exact=True).set_input_files(
        {"name": name, "mimeType": "application/octet-stream", "buffer": content}
    )
    page.get_by_label("What does the project need this file for?").fill(purpose)
    page.get_by_role("button", name="Send for review").click()


def open_import(page: Page, name: str) -> None:
    table = page.get_by_role("table", name="Project files awaiting review")
    table.get_by_role("link", name=re.compile(f"^{re.escape(name)}")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)


def test_a_researcher_brings_files_in_through_the_airlock(browser: Browser, instance: Instance):
    researcher = browser.new_context().new_page()
    sign_in(researcher, instance, "rachel")
    researcher.get_by_role("link", name=re.compile("HK-2026-001")).click()
    project_id = re.search(r"/projects/(\d+)/", researcher.url).group(1)
    imports_url = f"{instance.url}/data/projects/{project_id}/imports/"
    researcher.goto(imports_url)
    assert_accessible(researcher)

    bring_in(researcher, "tidy.py", b"print(1)\x00\x00", "Tidies the codes.")
    expect(researcher.get_by_role("alert")).to_contain_text("is a binary file, not code")
    assert_accessible(researcher)

    bring_in(researcher, "tidy_codes.py", CODE, "Prints the pandas version we wrote against.")
    expect(researcher.get_by_text(re.compile("tidy_codes.py is in the airlock"))).to_be_visible()
    bring_in(researcher, "bands.csv", LOOKUP, "Deprivation bands from our earlier study.")
    files = researcher.get_by_role("table", name="Files brought into this project")
    expect(files.get_by_role("row", name=re.compile("^tidy_codes.py"))).to_contain_text(
        "Awaiting review"
    )
    assert_accessible(researcher)

    steward = browser.new_context().new_page()
    sign_in(steward, instance, "dan")
    steward.get_by_role("navigation", name="Menu").get_by_role(
        "link", name="Ingress airlock"
    ).click()
    assert_accessible(steward)
    open_import(steward, "tidy_codes.py")
    expect(steward.locator(".hk-highlight .kn").first).to_have_text("import")
    assert_accessible(steward)
    steward.get_by_label(re.compile("^Approve")).check()
    steward.get_by_role("button", name="Record decision").click()
    expect(steward.get_by_text("Approved", exact=True)).to_be_visible()
    expect(steward.get_by_text(re.compile("approved by dan"))).to_be_visible()

    steward.get_by_role("navigation", name="Breadcrumb").get_by_role(
        "link", name="Ingress airlock"
    ).click()
    open_import(steward, "bands.csv")
    expect(steward.get_by_text("Columns that look like CHI numbers")).to_be_visible()
    preview = steward.get_by_role("table", name=re.compile("The first 2 rows"))
    expect(preview).to_contain_text("(hidden)")
    expect(preview).not_to_contain_text("0101011237")
    assert_accessible(steward)
    steward.get_by_label("Reject").check()
    steward.get_by_label("Comment").fill("Holds CHI numbers: ask for linkage in the extract.")
    steward.get_by_role("button", name="Record decision").click()
    expect(steward.get_by_text("Rejected", exact=True)).to_be_visible()

    researcher.goto(imports_url)
    expect(files.get_by_role("row", name=re.compile("^tidy_codes.py"))).to_contain_text(
        "Approved: tidy_codes.py version 1"
    )
    expect(files.get_by_role("row", name=re.compile("^bands.csv"))).to_contain_text("Rejected")
    researcher.get_by_role("link", name=re.compile("^bands.csv")).click()
    expect(researcher.get_by_text(re.compile("ask for linkage in the extract"))).to_be_visible()
    assert_accessible(researcher)
    researcher.get_by_role("link", name=re.compile("Files brought into HK-2026-001")).click()
    researcher.get_by_role("link", name=re.compile("Back to the workspace")).click()
    researcher.get_by_role("link", name="tidy_codes.py").click()
    expect(researcher.get_by_text(re.compile("Saved by .*Rachel|Saved by rachel"))).to_be_visible()

    audit = instance.havenkit("audit", "verify")
    assert audit.returncode == 0, audit.stderr
