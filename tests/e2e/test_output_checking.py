"""A two-checker review in a real Chromium where the output-checking result is in plain view.

A researcher's job writes a table with a count of 4; the portal fails it with the cell named.
The researcher cannot submit it without a justification, gives one, and submits. The first
output checker asks for changes with a comment, the second approves, and the request comes
back. The researcher answers the comment in place, rewrites the justification and resubmits;
the timeline shows each step. Each checker then sees "fail", the flagged cell marked in the
preview, the justification and the answer beside the comment, and approves; the request is
released. axe-core runs on every page.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import Instance, assert_accessible, fill_code_editor, sign_in

SCRIPT = """\
import os
import pandas as pd

people = pd.read_parquet(os.path.join(os.environ["HAVENKIT_EXTRACT"], "people.parquet"))
rows = [("first four records", 4), ("everyone else", len(people) - 4)]
table = pd.DataFrame(rows, columns=["group", "people"])
table.to_csv(os.path.join(os.environ["HAVENKIT_OUTPUTS"], "small_counts.csv"), index=False)
"""
JUSTIFICATION = "The group of four is an artefact of the example; it names nobody."
COMMENT = "Say how the group of four was chosen: could someone recognise its members?"
ANSWER = "They are the first four rows of a synthetic cohort; no real person is in it."


def new_page(browser: Browser) -> Page:
    return browser.new_context().new_page()


def researcher_runs_the_job(page: Page) -> None:
    page.get_by_role("link", name=re.compile("HK-2026-001")).click()
    page.get_by_label("File name").fill("small_counts.py")
    fill_code_editor(page, SCRIPT)
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


def record_review(page: Page, decision: str, comment: str = "") -> None:
    page.get_by_label(decision).check()
    if comment:
        page.get_by_label("Comment for the researcher").fill(comment)
    page.get_by_role("button", name="Record review of small_counts.csv").click()
    expect(
        page.get_by_text(re.compile("Your review of small_counts.csv is recorded"))
    ).to_be_visible()
    assert_accessible(page)


def checker_reviews(
    browser: Browser, instance: Instance, username: str, request_url: str, *decision: str
) -> None:
    """A first-round review, before the researcher has answered anything."""
    page = new_page(browser)
    sign_in(page, instance, username)
    page.get_by_role("link", name="Output checking").first.click()
    queued = page.locator("table.hk-queue").filter(has_text="small_counts.csv")
    expect(queued.locator("tbody .nhsuk-tag").first).to_have_text("fail")
    assert_accessible(page)
    queued.get_by_role("link", name=re.compile("Release request")).click()
    assert page.url == request_url
    record_review(page, *decision)
    page.context.close()


def researcher_answers_in_place_and_resubmits(page: Page, request_url: str) -> None:
    page.goto(request_url)
    expect(page.get_by_text("Returned", exact=True).first).to_be_visible()
    review = page.locator(".hk-review", has_text=COMMENT)
    expect(review).to_contain_text("olivia")
    assert_accessible(page)

    review.get_by_role("button", name=re.compile("Send answer")).click()
    expect(
        page.get_by_text("Write your answer to the output checker's comment.").first
    ).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Your answer to olivia's comment on small_counts.csv").fill(ANSWER)
    page.get_by_role("button", name=re.compile("Send answer")).click()
    expect(page.locator(".hk-review", has_text=COMMENT)).to_contain_text(ANSWER)

    page.get_by_label("Justification").fill(f"{JUSTIFICATION} {ANSWER}")
    page.get_by_role("button", name=re.compile("Save justification")).click()
    page.get_by_role("button", name="Submit for output checking").click()
    expect(page.get_by_text(re.compile("Submitted: two output checkers"))).to_be_visible()

    timeline = page.locator("#timeline")
    for step in (
        "Requested changes",
        COMMENT,
        "Returned to the researcher",
        "Answered olivia's comment",
        ANSWER,
        "Resubmitted for output checking",
    ):
        expect(timeline).to_contain_text(step)
    assert_accessible(page)


def checker_sees_the_result_and_approves(
    browser: Browser, instance: Instance, username: str, request_url: str
) -> None:
    page = new_page(browser)
    sign_in(page, instance, username)
    page.goto(request_url)
    expect(page.locator(".hk-sdc-result .nhsuk-tag").first).to_have_text("fail")
    expect(page.locator(".hk-sdc-result").first).to_contain_text(JUSTIFICATION)
    expect(page.locator(".hk-review", has_text=COMMENT)).to_contain_text(ANSWER)
    assert_accessible(page)

    page.get_by_role("link", name="small_counts.csv").click()
    flagged = page.locator("td.hk-flagged")
    expect(flagged).to_have_count(1)
    expect(flagged).to_contain_text("4")
    expect(flagged).to_contain_text("flagged")
    expect(page.locator(".hk-sdc-result").first).to_contain_text(JUSTIFICATION)
    assert_accessible(page)

    page.goto(request_url)
    record_review(page, "Approve")
    page.context.close()


def test_checkers_see_the_failing_cell_and_the_justification(
    browser: Browser, instance: Instance, tmp_path: Path
):
    researcher = new_page(browser)
    sign_in(researcher, instance, "rachel")
    researcher_runs_the_job(researcher)
    request_url = researcher_asks_for_release(researcher)

    checker_reviews(browser, instance, "olivia", request_url, "Request changes", COMMENT)
    checker_reviews(browser, instance, "oscar", request_url, "Approve")
    researcher_answers_in_place_and_resubmits(researcher, request_url)

    checker_sees_the_result_and_approves(browser, instance, "olivia", request_url)
    checker_sees_the_result_and_approves(browser, instance, "oscar", request_url)

    researcher.goto(request_url)
    expect(researcher.get_by_text(re.compile("released", re.I)).first).to_be_visible()
    assert_accessible(researcher)
    package_is_checked_away_from_the_haven(researcher, instance, tmp_path)


def package_is_checked_away_from_the_haven(page: Page, instance: Instance, folder: Path) -> None:
    """The package and the signed record are checked with the public key alone, elsewhere."""
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Download all released files")).click()
    package = folder / "package.zip"
    download.value.save_as(package)
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("signed release record")).click()
    record = folder / "release-record.json"
    download.value.save_as(record)
    public_key = folder / "haven.pem"
    public_key.write_text(instance.havenkit("release", "public-key").stdout)

    elsewhere = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    elsewhere["HAVENKIT_HOME"] = str(folder / "elsewhere")
    verify = [sys.executable, "-m", "havenkit.cli", "release", "verify", str(package)]
    checked = subprocess.run(
        [*verify, "--record", str(record), "--public-key", str(public_key)],
        env=elsewhere,
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
    assert "VERIFIED" in checked.stdout
    assert not (folder / "elsewhere" / "havenkit.sqlite3").exists()
