"""Running, following and cancelling a job in a real Chromium against a served demo instance.

The researcher sees the code highlighted and runs it on the extract's dummy data. The job
prints a line a second for a minute; the researcher watches its log grow on the job page
without reloading (htmx polls the status fragment), then cancels it and sees it stop.
"""

import re

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import Instance, assert_accessible, fill_code_editor, sign_in

pytestmark = pytest.mark.e2e

SLOW_SCRIPT = """\
import time

for step in range(1, 61):
    print(f"step {step} of 60", flush=True)
    time.sleep(1)
"""


def test_run_follow_and_cancel_a_job(browser: Browser, instance: Instance):
    page = browser.new_context().new_page()
    sign_in(page, instance, "rachel")
    page.get_by_role("link", name=re.compile("HK-2026-001")).click()
    page.get_by_label("File name").fill("slow_count.py")
    fill_code_editor(page, SLOW_SCRIPT)
    page.get_by_role("button", name="Save code file").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("slow_count.py")
    # The saved code is shown highlighted, and the run form offers dummy or real data.
    expect(page.locator(".hk-highlight .kn")).to_have_text("import")
    expect(page.get_by_label(re.compile("Dummy data of extract"))).not_to_be_checked()
    assert_accessible(page)
    page.get_by_label(re.compile("Dummy data of extract")).check()
    page.get_by_role("button", name="Run this code").click()
    expect(page.get_by_text("Dummy data of extract")).to_be_visible()

    # Follow: the state and the log change on the page by themselves while the job runs.
    expect(page.get_by_text("Running", exact=True)).to_be_visible(timeout=30_000)
    log = page.get_by_label(re.compile("Log of job"))
    expect(log).to_contain_text("step 2 of 60", timeout=30_000)
    expect(log).to_contain_text("step 4 of 60", timeout=30_000)
    assert_accessible(page)

    # Cancel: the worker stops the sandbox within seconds and the page says so.
    page.get_by_role("button", name="Cancel this job").click()
    expect(page.get_by_text("Cancelled", exact=True)).to_be_visible(timeout=30_000)
    expect(log).to_contain_text("[havenkit] Cancelled while running.")
    expect(page.get_by_role("button", name="Cancel this job")).to_have_count(0)
    expect(log).not_to_contain_text("step 60 of 60")
    assert_accessible(page)

    # Run again: a new job with the same code on the same (dummy) data, which can be cancelled too.
    cancelled_heading = page.get_by_role("heading", level=1).inner_text()
    page.get_by_role("button", name="Run this job again").click()
    expect(
        page.get_by_text(re.compile(r"Job \d+ is queued: it runs the same code"))
    ).to_be_visible()
    expect(page.get_by_role("heading", level=1)).not_to_have_text(cancelled_heading)
    expect(page.get_by_text("Dummy data of extract")).to_be_visible()
    expect(log).to_contain_text("step 2 of 60", timeout=30_000)
    page.get_by_role("button", name="Cancel this job").click()
    expect(page.get_by_text("Cancelled", exact=True)).to_be_visible(timeout=30_000)
    assert_accessible(page)
