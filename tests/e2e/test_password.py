"""Changing a password in a real Chromium: the demo administrator issues the auditor a new
one-time password; the auditor signs in with it and their authenticator, chooses a password,
signs in again with it, then changes it themselves. axe-core runs on every page, error pages
included.

The auditor's demo account is shared with other browser tests, so its password in
``instance.accounts`` is kept up to date at each step.
"""

import re

from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import Instance, assert_accessible, sign_in

CHOSEN = "the auditor's own long passphrase"
CHANGED = "a second passphrase for the auditor"


def give_password_and_code(page: Page, instance: Instance, password: str) -> None:
    account = instance.accounts["aud"]
    page.goto(f"{instance.url}/login/")
    page.get_by_label("Username").fill("aud")
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_label("Code")).to_be_visible()
    page.get_by_label("Code").fill(account.fresh_code())
    page.get_by_role("button", name="Continue").click()


def test_a_forgotten_password_is_replaced_and_then_changed(browser: Browser, instance: Instance):
    aud = instance.accounts["aud"]
    admin = browser.new_context().new_page()
    sign_in(admin, instance, "ada")
    admin.goto(f"{instance.url}/people/?q=aud")
    admin.get_by_role("link", name="Aud Ross").click()
    expect(admin.get_by_role("heading", name="Password", exact=True)).to_be_visible()
    assert_accessible(admin)
    admin.get_by_role("button", name="Issue a new one-time password").click()
    expect(admin.get_by_role("alert")).to_contain_text("Give a reason")
    assert_accessible(admin)
    admin.locator("#id_password-reason").fill("Forgot it; checked by phone, ticket 7")
    admin.get_by_role("button", name="Issue a new one-time password").click()
    expect(admin.get_by_role("heading", name="New one-time password for aud")).to_be_visible()
    assert_accessible(admin)
    one_time_password = admin.locator("#one-time-password").inner_text()
    assert re.fullmatch(r"[a-z2-9]{4}(-[a-z2-9]{4}){3}", one_time_password)
    aud.password = one_time_password
    admin.context.close()

    # Password, then code, then a new password; no other page opens in between.
    page = browser.new_context().new_page()
    give_password_and_code(page, instance, one_time_password)
    expect(page.get_by_role("heading", name=re.compile("Choose a password"))).to_be_visible()
    assert_accessible(page)
    page.goto(f"{instance.url}/audit/")
    expect(page.get_by_role("heading", name=re.compile("Choose a password"))).to_be_visible()
    page.get_by_label("New password", exact=True).fill(CHOSEN)
    page.get_by_label("New password again").fill("not the same passphrase")
    page.get_by_role("button", name="Save password and continue").click()
    expect(page.get_by_role("alert")).to_contain_text("The two passwords are not the same.")
    assert_accessible(page)
    page.get_by_label("New password", exact=True).fill(CHOSEN)
    page.get_by_label("New password again").fill(CHOSEN)
    page.get_by_role("button", name="Save password and continue").click()
    expect(page.get_by_role("button", name="Sign out aud")).to_be_visible()
    aud.password = CHOSEN
    page.get_by_role("button", name="Sign out aud").click()

    # The chosen password signs in with the same authenticator.
    give_password_and_code(page, instance, CHOSEN)
    expect(page.get_by_role("button", name="Sign out aud")).to_be_visible()

    # And the auditor can change it themselves.
    page.get_by_role("link", name="Change your password").click()
    expect(page.get_by_role("heading", name="Change your password")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Current password").fill("not my password at all")
    page.get_by_label("New password", exact=True).fill(CHANGED)
    page.get_by_label("New password again").fill(CHANGED)
    page.get_by_role("button", name="Change your password").click()
    expect(page.get_by_role("alert")).to_contain_text("Your current password is not right.")
    assert_accessible(page)
    page.get_by_label("Current password").fill(CHOSEN)
    page.get_by_label("New password", exact=True).fill(CHANGED)
    page.get_by_label("New password again").fill(CHANGED)
    page.get_by_role("button", name="Change your password").click()
    expect(page.get_by_text("Your password is changed.")).to_be_visible()
    assert_accessible(page)
    aud.password = CHANGED
    page.context.close()
