"""A two-checker review in a real Chromium where the output-checking result is in plain view.

A researcher's job writes a table with a count of 4; the portal fails it with the cell named.
The researcher cannot submit it without a justification, gives one, and submits. Each output
checker sees "fail", the flagged cell marked in the preview, and the justification, then
approves; the request is released. axe-core runs on every page.
"""

import re

from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import Instance, assert_accessible, sign_in

SCRIPT = """\
import os
import pandas as pd

people = pd.read_parquet(os.path.join(os.environ["HAVENKIT_EXTRACT"], "people.parquet"))
rows = [("first four records", 4), ("everyone else", len(people) - 4)]
table = pd.DataFrame(rows, columns=["group", "people"])
table.to_csv(os.path.join(os.environ["HAVENKIT_OUTPUTS"], "small_counts.csv"), index=False)
"""
JUSTIFICATION = "The group of four is an artefact of the example; it names nobody."


def new_page(browser: Browser) -> Page:
    return browser.new_context().new_page()


def researcher_runs_the_job(page: Page) -> None:
    page.get_by_role("link", name=re.compile("HK-2026-001")).click()
    page.get_by_label("File name").fill("small_counts.py")
    page.get_by_label("Code", exact=True).fill(SCRIPT)
    page.get_by_role("button", name="Save code file").click()
    page.get_by_role("button", name="Run this code").click()
    expect(page.get_by_text("Succeeded").first).to_be_visible(timeout=60_000)
    expect(page.get_by_text("small_counts.csv").first).to_be_visible()


def researcher_asks_for_release(page: Page) -> str:
    page.get_by_role("link", name=re.compile("Back to the workspace")).click()
    page.get_by_role("link", name="Release requests of HK-2026-001").click()
    page.get_by_role("link", name="Start a release request").click()
    page.get_by_label(re.compile("Include small_counts.csv")).check()
    page.get_by_label(re.compile("Description of small_counts.csv")).fill(
        "People in two groups of the cohort."
    )
    page.get_by_role("button", name="Create release request").click()
    expect(page.get_by_text(re.compile("counts below 10"))).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name="Submit for output checking").click()
    expect(page.get_by_text(re.compile("give a justification"))).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Justification").fill(JUSTIFICATION)
    page.get_by_role("button", name=re.compile("Save justification")).click()
    expect(page.locator(".hk-sdc-result").first).to_contain_text(JUSTIFICATION)
    assert_accessible(page)
    page.get_by_role("button", name="Submit for output checking").click()
    expect(page.get_by_text(re.compile("Submitted: two output checkers"))).to_be_visible()
    return page.url


def checker_sees_the_result_and_approves(
    browser: Browser, instance: Instance, username: str, request_url: str
) -> None:
    page = new_page(browser)
    sign_in(page, instance, username)
    page.goto(request_url)
    expect(page.locator(".hk-sdc-result .nhsuk-tag").first).to_have_text("fail")
    expect(page.locator(".hk-sdc-result").first).to_contain_text(JUSTIFICATION)
    assert_accessible(page)

    page.get_by_role("link", name="small_counts.csv").click()
    flagged = page.locator("td.hk-flagged")
    expect(flagged).to_have_count(1)
    expect(flagged).to_contain_text("4")
    expect(flagged).to_contain_text("flagged")
    expect(page.locator(".hk-sdc-result").first).to_contain_text(JUSTIFICATION)
    assert_accessible(page)

    page.goto(request_url)
    page.get_by_label("Approve").check()
    page.get_by_role("button", name="Record review of small_counts.csv").click()
    expect(
        page.get_by_text(re.compile("Your review of small_counts.csv is recorded"))
    ).to_be_visible()
    assert_accessible(page)
    page.context.close()


def test_checkers_see_the_failing_cell_and_the_justification(browser: Browser, instance: Instance):
    researcher = new_page(browser)
    sign_in(researcher, instance, "rachel")
    researcher_runs_the_job(researcher)
    request_url = researcher_asks_for_release(researcher)

    checker_sees_the_result_and_approves(browser, instance, "olivia", request_url)
    checker_sees_the_result_and_approves(browser, instance, "oscar", request_url)

    researcher.goto(request_url)
    expect(researcher.get_by_text(re.compile("released", re.I)).first).to_be_visible()
    assert_accessible(researcher)
