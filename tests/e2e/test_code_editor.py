"""Typing code in the highlighting editor, with the keyboard only, in a real Chromium.

The researcher types Python into the editor and sees it coloured as they type; Tab indents,
and Escape then Tab leaves the editor, so the keyboard is never trapped in it. The save goes
through the plain textarea the editor keeps in step, and makes a new version. The same editor
adds a new code file on the workspace page, coloured in the language of the name being typed.
"""

import re

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import Instance, assert_accessible, fill_code_editor, sign_in

pytestmark = pytest.mark.e2e


def test_edit_code_with_highlighting_and_leave_the_editor_by_keyboard(
    browser: Browser, instance: Instance
):
    page = browser.new_context().new_page()
    sign_in(page, instance, "rachel")
    page.get_by_role("link", name=re.compile("HK-2026-001")).click()
    page.get_by_label("File name").fill("doubling.py")
    # Several lines put in at once (as `fill` does) keep their line breaks.
    fill_code_editor(page, "x = 1\nprint(x)\n")
    expect(page.locator("textarea[name=code]")).to_have_value("x = 1\nprint(x)\n")
    page.get_by_role("button", name="Save code file").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("doubling.py")

    # The editor takes the textarea's label; the textarea stays in the form, hidden.
    editor = page.get_by_role("textbox", name="Code", exact=True)
    textarea = page.locator("textarea[name=code]")
    expect(editor).to_have_text("x = 1\nprint(x)\n")
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

    # The history links each version: the first one, as it was, and what version 2 changed.
    page.get_by_role("link", name="Version 2", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("doubling.py, version 2")
    changes = page.get_by_role("region", name="Changes from version 1 to version 2")
    expect(changes).to_contain_text("-x = 1")
    expect(changes).to_contain_text("+def double(x):")
    assert_accessible(page)


def test_add_a_code_file_coloured_in_the_language_of_the_name_being_typed(
    browser: Browser, instance: Instance
):
    page = browser.new_context().new_page()
    sign_in(page, instance, "rachel")
    page.get_by_role("link", name=re.compile("HK-2026-001")).click()
    editor = page.get_by_role("textbox", name="Code", exact=True)
    textarea = page.locator("textarea[name=code]")
    expect(editor).to_be_visible()
    expect(textarea).to_be_hidden()
    expect(page.get_by_label("Tab key indents code")).to_be_checked()
    assert_accessible(page)

    name = page.get_by_label("File name")
    name.press_sequentially("analysis.R")
    editor.click()
    page.keyboard.type('square <- function(x) x^2 # "R"')
    expect(editor.locator(".hljs-keyword")).to_have_text(["function"])
    expect(editor.locator(".hljs-comment")).to_have_text(['# "R"'])

    # A name the editor has no language for leaves the code uncoloured, but still in the editor.
    name.fill("analysis.txt")
    expect(editor.locator("span")).to_have_count(0)
    expect(editor).to_have_text('square <- function(x) x^2 # "R"')

    # Code files end in .R exactly, as the portal requires: a lower-case .r is no R here either.
    name.fill("analysis.r")
    expect(editor.locator("span")).to_have_count(0)
    name.fill("analysis.R")
    expect(editor.locator(".hljs-keyword")).to_have_text(["function"])

    # Renamed to Python, the same code is coloured as Python: `function` is no keyword there.
    name.fill("analysis.py")
    expect(editor.locator(".hljs-comment")).to_have_text(['# "R"'])
    expect(editor.locator(".hljs-keyword")).to_have_count(0)
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Backspace")
    page.keyboard.type("def square(x):")
    page.keyboard.press("Enter")  # indents after the colon, four spaces as Python's are
    page.keyboard.type("return x ** 2")
    expect(editor.locator(".hljs-keyword")).to_have_text(["def", "return"])
    expect(textarea).to_have_value("def square(x):\n    return x ** 2")
    assert_accessible(page)

    page.get_by_role("button", name="Save code file").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("analysis.py")
    code = page.get_by_role("region", name="Code of analysis.py, version 1")
    expect(code).to_have_text("def square(x):\n    return x ** 2\n")
    expect(code.locator(".k")).to_have_text(["def", "return"])
