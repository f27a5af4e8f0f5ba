"""The thin journey, end to end, in a real Chromium against a served demo instance.

A researcher signs in with a real TOTP code, adds a script to the demo project's workspace,
runs it as a sandboxed job, sees its log and output, and asks for the output to be released;
two output checkers from outside the project approve it; the researcher downloads it; the
auditor sees every step in the audit log, and the hash chain verifies.
"""

import re

from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import Instance, assert_accessible, fill_code_editor, sign_in

SCRIPT = """\
import os
import pandas as pd

people = pd.read_parquet(os.path.join(os.environ["HAVENKIT_EXTRACT"], "people.parquet"))
counts = people.groupby("sex").size().rename("people").reset_index()
counts.to_csv(os.path.join(os.environ["HAVENKIT_OUTPUTS"], "people_by_sex.csv"), index=False)
print(f"counted {len(people)} people")
"""


def new_page(browser: Browser) -> Page:
    context = browser.new_context(accept_downloads=True)
    return context.new_page()


def researcher_runs_a_job(page: Page, instance: Instance) -> str:
    page.get_by_role("link", name=re.compile("HK-2026-001")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("heart attack")
    assert_accessible(page)
    page.get_by_label("File name").fill("people_by_sex.py")
    fill_code_editor(page, SCRIPT)
    page.get_by_role("button", name="Save code file").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("people_by_sex.py")
    assert_accessible(page)
    page.get_by_role("button", name="Run this code").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("people_by_sex.py")
    # The job page updates itself while the job runs (htmx); no reload here.
    expect(page.get_by_text("Succeeded").first).to_be_visible(timeout=60_000)
    expect(page.get_by_label(re.compile("Log of job"))).to_contain_text("counted 3000 people")
    expect(page.get_by_text("people_by_sex.csv").first).to_be_visible()
    assert_accessible(page)
    return page.url


def researcher_asks_for_release(page: Page, instance: Instance) -> str:
    page.get_by_role("link", name=re.compile("Back to the workspace")).click()
    page.get_by_role("link", name="Release requests of HK-2026-001").click()
    assert_accessible(page)
    page.get_by_role("link", name="Start a release request").click()
    assert_accessible(page)
    page.get_by_label(re.compile("Include people_by_sex.csv")).check()
    page.get_by_label(re.compile("Description of people_by_sex.csv")).fill(
        "Number of people in the cohort by sex; every cell is in the thousands."
    )
    page.get_by_role("button", name="Create release request").click()
    assert_accessible(page)
    page.get_by_role("button", name="Submit for output checking").click()
    expect(page.get_by_text(re.compile("submitted", re.I)).first).to_be_visible()
    return page.url


def checker_approves(browser: Browser, instance: Instance, username: str, request_url: str):
    page = new_page(browser)
    sign_in(page, instance, username)
    page.get_by_role("link", name="Output checking").click()
    assert_accessible(page)
    page.goto(request_url)
    assert_accessible(page)
    page.get_by_label("Approve").check()
    page.get_by_role("button", name="Record review of people_by_sex.csv").click()
    assert_accessible(page)
    expect(page.get_by_role("link", name=re.compile("Download"))).to_have_count(0)
    page.context.close()


def test_from_code_to_released_output(browser: Browser, instance: Instance):
    researcher = new_page(browser)
    sign_in(researcher, instance, "rachel")
    assert_accessible(researcher)
    job_url = researcher_runs_a_job(researcher, instance)
    request_url = researcher_asks_for_release(researcher, instance)

    checker_approves(browser, instance, "olivia", request_url)
    researcher.goto(request_url)
    expect(researcher.get_by_role("link", name=re.compile("^Download"))).to_have_count(0)
    checker_approves(browser, instance, "oscar", request_url)

    researcher.goto(request_url)
    expect(researcher.get_by_text(re.compile("released", re.I)).first).to_be_visible()
    assert_accessible(researcher)
    with researcher.expect_download() as download_info:
        researcher.get_by_role("link", name="Download people_by_sex.csv").click()
    released = download_info.value.path().read_text()
    assert released.splitlines()[0] == "sex,people"
    assert sum(int(line.split(",")[1]) for line in released.splitlines()[1:]) == 3000
    assert job_url

    auditor = new_page(browser)
    sign_in(auditor, instance, "aud")
    auditor.get_by_role("link", name="Audit log").click()
    assert_accessible(auditor)
    for action in ("job.submitted", "job.finished", "release.released", "release.downloaded"):
        auditor.get_by_label("Action (starts with)").fill(action)
        auditor.get_by_role("button", name="Filter").click()
        expect(auditor.get_by_role("cell", name=action).first).to_be_visible()
    verify = instance.havenkit("audit", "verify")
    assert verify.returncode == 0, verify.stderr


def test_wrong_code_is_refused_with_a_clear_message(browser: Browser, instance: Instance):
    page = new_page(browser)
    account = instance.accounts["priya"]
    page.goto(f"{instance.url}/login/")
    page.get_by_label("Username").fill(account.username)
    page.get_by_label("Password", exact=True).fill(account.password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Code").fill("000000" if account.fresh_code() != "000000" else "111111")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_contain_text("not right")
    assert_accessible(page)


def test_first_login_is_one_guided_flow(browser: Browser, instance: Instance):
    account = instance.accounts["newstarter"]
    page = new_page(browser)
    page.goto(f"{instance.url}/login/")
    page.get_by_label("Username").fill(account.username)
    page.get_by_label("Password", exact=True).fill(account.password)
    page.get_by_role("button", name="Sign in").click()

    assert_accessible(page)
    new_password = "a long new passphrase for the haven"
    password_fields = page.locator("input[type=password]")
    password_fields.nth(0).fill(new_password)
    password_fields.nth(1).fill(new_password)
    page.get_by_role("button", name=re.compile("Continue|Save|Set")).first.click()

    assert_accessible(page)
    expect(page.locator("svg").filter(has=page.locator("path")).first).to_be_visible()
    account.totp_secret = page.locator("#manual-entry-key").inner_text().replace(" ", "")
    page.get_by_label("Code").fill(account.fresh_code())
    page.get_by_role("button", name=re.compile("Continue|Confirm")).first.click()

    assert_accessible(page)
    expect(page.get_by_text(re.compile("recovery codes", re.I)).first).to_be_visible()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("button", name="Sign out newstarter")).to_be_visible()
