"""Account management in a real Chromium: the demo administrator creates an output checker's
account, reads its one-time password once, and the new person signs in with it, chooses a
password and enrols an authenticator. axe-core runs on every page, error pages included.
"""

import re

from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import DemoAccount, Instance, assert_accessible, sign_in

NEW_PASSWORD = "an output checker's own long passphrase"


def visit(page: Page, instance: Instance, path: str) -> Page:
    page.goto(f"{instance.url}{path}")
    assert_accessible(page)
    return page


def test_an_administrator_creates_an_output_checker_who_then_signs_in(
    browser: Browser, instance: Instance
):
    admin = browser.new_context().new_page()
    sign_in(admin, instance, "ada")
    admin.get_by_role("link", name="People", exact=True).click()
    expect(admin.get_by_role("heading", name="People", level=1)).to_be_visible()
    assert_accessible(admin)
    admin.get_by_label("Search by name or username").fill("olivia")
    admin.get_by_role("button", name="Search").click()
    expect(admin.get_by_role("link", name="Olivia Grant")).to_be_visible()
    assert_accessible(admin)

    admin.get_by_role("link", name="Create an account").click()
    assert_accessible(admin)
    admin.get_by_role("button", name="Create the account").click()
    expect(admin.get_by_role("alert")).to_contain_text("Enter a username.")
    assert_accessible(admin)
    admin.get_by_label("Username").fill("owen")
    admin.get_by_label("Full name").fill("Owen Checker")
    admin.get_by_label("Email address").fill("owen@example.org")
    admin.get_by_label("Output checker").check()
    admin.get_by_role("button", name="Create the account").click()
    expect(admin.get_by_role("heading", name="Account created for owen")).to_be_visible()
    assert_accessible(admin)
    one_time_password = admin.locator("#one-time-password").inner_text()
    assert re.fullmatch(r"[a-z2-9]{4}(-[a-z2-9]{4}){3}", one_time_password)

    admin.get_by_role("link", name="Open owen's account").click()
    assert_accessible(admin)
    expect(admin.get_by_text("Output checker").first).to_be_visible()
    admin.get_by_role("button", name="Grant the role").click()
    expect(admin.get_by_role("alert")).to_contain_text("Give a reason")
    assert_accessible(admin)
    admin.context.close()

    newcomer = browser.new_context().new_page()
    visit(newcomer, instance, "/login/")
    newcomer.get_by_label("Username").fill("owen")
    newcomer.get_by_label("Password", exact=True).fill(one_time_password)
    newcomer.get_by_role("button", name="Sign in").click()
    expect(newcomer.get_by_role("heading", name=re.compile("Choose a password"))).to_be_visible()
    assert_accessible(newcomer)
    newcomer.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    newcomer.get_by_label("New password again").fill(NEW_PASSWORD)
    newcomer.get_by_role("button", name="Continue").click()

    expect(newcomer.get_by_role("heading", name=re.compile("authenticator app"))).to_be_visible()
    assert_accessible(newcomer)
    owen = DemoAccount("owen", NEW_PASSWORD, None, ["output_checker"])
    owen.totp_secret = newcomer.locator("#manual-entry-key").text_content().replace(" ", "")
    newcomer.get_by_label("Code").fill(owen.fresh_code())
    newcomer.get_by_role("button", name="Continue").click()

    expect(
        newcomer.get_by_role("heading", name=re.compile("recovery codes"), level=1)
    ).to_be_visible()
    assert_accessible(newcomer)
    newcomer.get_by_role("button", name="Continue").click()
    expect(newcomer.get_by_role("button", name="Sign out owen")).to_be_visible()
    newcomer.get_by_role("link", name="Output checking").click()
    assert_accessible(newcomer)
    newcomer.context.close()
