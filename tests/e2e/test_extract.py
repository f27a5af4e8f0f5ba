"""Journey 4 in a real Chromium: dan (data steward) finds the demo project on the extracts
list with its approved dataset, builds a new extract version with dates generalised, reads its
disclosure-risk report, and rachel (researcher) then finds that version in her workspace."""

import re

from playwright.sync_api import Browser, expect

from tests.e2e.conftest import Instance, assert_accessible, sign_in

PROJECT = "HK-2026-001"
DATASET = "Scottish synthetic cohort"


def test_steward_prepares_a_generalised_extract(browser: Browser, instance: Instance):
    steward = browser.new_context().new_page()
    sign_in(steward, instance, "dan")
    steward.get_by_role("navigation", name="Menu").get_by_role(
        "link", name="Project extracts"
    ).click()
    expect(steward.get_by_role("heading", level=1)).to_have_text("Project extracts")
    row = steward.get_by_role("row", name=re.compile(PROJECT))
    # The demo application was approved for 13 variables of the cohort; setup built extract 1.
    expect(row).to_contain_text(f"{DATASET}: 13 variables")
    expect(row).to_contain_text("Extract 1 ready")
    assert_accessible(steward)

    row.get_by_role("link", name=re.compile(PROJECT)).click()
    expect(steward.get_by_role("heading", level=1)).to_have_text(f"Extract for {PROJECT}")
    expect(steward.get_by_label("Include people.chi")).to_be_checked()
    assert_accessible(steward)
    steward.get_by_label("Generalise people.date_of_birth").select_option(label="Dates to year")
    steward.get_by_label("Generalise admissions.admission_date").select_option(
        label="Dates to month"
    )
    steward.get_by_role("button", name="Build extract", exact=True).click()

    expect(steward.get_by_text("Extract 2 built.")).to_be_visible()
    expect(steward.get_by_role("heading", name="Extract 2", exact=True)).to_be_visible()
    expect(steward.get_by_text(re.compile(r"people\.date_of_birth \(year\)"))).to_be_visible()
    risk = steward.get_by_role("table", name=re.compile("Disclosure risk of extract 2"))
    for header in ("Unique records", "Smallest group (k)", "Records in groups below threshold"):
        expect(risk.get_by_role("columnheader", name=header)).to_be_visible()
    people = risk.get_by_role("row", name=re.compile("^people"))
    expect(people).to_contain_text("sex, date_of_birth, postcode_district, simd_quintile")
    expect(people.get_by_role("cell").nth(1)).to_have_text("3000")
    assert_accessible(steward)

    steward.get_by_role("link", name="Project extracts").first.click()
    expect(steward.get_by_role("row", name=re.compile(PROJECT))).to_contain_text("Extract 2 ready")
    assert_accessible(steward)

    researcher = browser.new_context().new_page()
    sign_in(researcher, instance, "rachel")
    researcher.get_by_role("link", name=re.compile(PROJECT)).click()
    expect(researcher.get_by_text(re.compile(f"Extract 2 of {DATASET}"))).to_be_visible()
    expect(researcher.get_by_role("table", name="Tables in extract 2")).to_be_visible()
    assert_accessible(researcher)
