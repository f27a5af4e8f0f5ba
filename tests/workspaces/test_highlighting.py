"""Code is shown highlighted by the server, readable without JavaScript and with AA contrast."""

import re
from pathlib import Path

import pytest
from django.urls import reverse

from havenkit.workspaces import highlighting, services

STYLESHEET = Path(highlighting.__file__).parent / "static" / "workspaces" / "highlight.css"
# The background of the code panel (.hk-log in core/havenkit.css).
PANEL_BACKGROUND = "#f0f4f5"


def _luminance(colour: str) -> float:
    hex_digits = colour.lstrip("#")
    if len(hex_digits) == 3:
        hex_digits = "".join(digit * 2 for digit in hex_digits)
    channels = [int(hex_digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(first: str, second: str) -> float:
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_python_keywords_strings_and_comments_get_their_own_classes():
    html = highlighting.highlighted("analysis.py", 'import pandas\nx = "a"  # note\n')
    assert '<span class="kn">import</span>' in html
    assert '<span class="s2">"a"</span>' in html
    assert '<span class="c1"># note</span>' in html


def test_r_code_is_highlighted_as_r():
    html = highlighting.highlighted("model.R", "fit <- lm(y ~ x)  # fit\n")
    assert '<span class="c1"># fit</span>' in html
    assert "&lt;-" in html


def test_markup_in_code_is_escaped():
    html = highlighting.highlighted("a.py", "print('<script>alert(1)</script>')\n")
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_the_stylesheet_is_the_one_the_style_makes():
    assert STYLESHEET.read_text() == highlighting.stylesheet()


def test_every_token_colour_meets_wcag_aa_contrast_on_the_panel():
    colours = re.findall(r"color: (#[0-9A-Fa-f]{3,6})", highlighting.stylesheet())
    assert len(colours) > 10
    for colour in colours:
        assert _contrast(colour, PANEL_BACKGROUND) >= 4.5, colour


@pytest.mark.django_db
def test_the_code_page_shows_highlighted_code_and_keeps_the_plain_textarea(
    signed_in_client, project, researcher
):
    version = services.save_code_file(project, "a.py", "import os\nprint('<b>')\n", researcher)
    client = signed_in_client(person=researcher)
    url = reverse("workspaces:code_file", args=[project.pk, version.code_file_id])
    page = client.get(url).content.decode()
    assert 'class="hk-log hk-highlight"' in page
    assert '<span class="kn">import</span>' in page
    assert "workspaces/highlight.css" in page
    assert "<b>" not in page.split('class="hk-log hk-highlight"')[1].split("</pre>")[0]
    assert re.search(
        r'<textarea[^>]*name="code"[^>]*>import os\nprint\(&#x27;&lt;b&gt;&#x27;\)', page
    )
