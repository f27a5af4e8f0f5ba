"""Editing a code file in the highlighting editor, with the keyboard only, in a real Chromium.

The researcher types Python into the editor and sees it coloured as they type; Tab indents,
and Escape then Tab leaves the editor, so the keyboard is never trapped in it. The save goes
through the plain textarea the editor keeps in step, and makes a new version.
"""

import re

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import Instance, assert_accessible, sign_in

pytestmark = pytest.mark.e2e


def test_edit_code_with_highlighting_and_leave_the_editor_by_keyboard(
    browser: Browser, instance: Instance
):
    page = browser.new_context().new_page()
    sign_in(page, instance, "rachel")
    page.get_by_role("link", name=re.compile("HK-2026-001")).click()
    page.get_by_label("File name").fill("doubling.py")
    page.get_by_label("Code", exact=True).fill("print(1)\n")
    page.get_by_role("button", name="Save code file").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("doubling.py")

    # The editor takes the textarea's label; the textarea stays in the form, hidden.
    editor = page.get_by_role("textbox", name="Code", exact=True)
    textarea = page.locator("textarea[name=code]")
    expect(editor).to_have_text("print(1)\n")
    expect(textarea).to_be_hidden()
    assert_accessible(page)

    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Backspace")
    page.keyboard.type("def double(x):")
    page.keyboard.press("Enter")  # indents the line after the colon
    page.keyboard.press("Shift+Tab")  # takes that indentation away
    page.keyboard.press("Tab")  # and puts it back: Tab indents inside the editor
    expect(editor).to_be_focused()
    page.keyboard.type("return 2 * x")
    expect(editor.locator(".hljs-keyword")).to_have_text(["def", "return"])
    expect(editor).to_have_text("def double(x):\n    return 2 * x")
    expect(textarea).to_have_value("def double(x):\n    return 2 * x")

    # Escape, then Tab, moves on to the next control instead of indenting.
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")
    tab_indents = page.get_by_label("Tab key indents code")
    expect(tab_indents).to_be_focused()
    expect(editor).to_have_text("def double(x):\n    return 2 * x")
    # With indenting turned off, Tab always moves on.
    page.keyboard.press("Space")
    expect(tab_indents).not_to_be_checked()
    editor.focus()
    page.keyboard.press("Tab")
    expect(tab_indents).to_be_focused()
    assert_accessible(page)

    page.get_by_role("button", name="Save a new version").click()
    expect(page.get_by_text("Saved doubling.py, version 2.")).to_be_visible()
    expect(page.get_by_role("heading", name="Version 2")).to_be_visible()
    code = page.get_by_role("region", name="Code of doubling.py, version 2")
    expect(code).to_have_text("def double(x):\n    return 2 * x\n")
    expect(code.locator(".k")).to_have_text(["def", "return"])
    expect(page.get_by_role("textbox", name="Code", exact=True)).to_have_text(
        "def double(x):\n    return 2 * x"
    )
    assert_accessible(page)
