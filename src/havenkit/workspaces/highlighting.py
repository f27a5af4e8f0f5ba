"""Syntax highlighting of code files, done on the server so it works without JavaScript.

Pygments marks each token with a short class (``k`` keyword, ``s`` string...); the colours are
in ``workspaces/highlight.css``, made by :func:`stylesheet` from a style whose every colour has
at least the 4.5:1 contrast WCAG 2.2 AA asks for on the code panel's background.
"""

import difflib
from pathlib import PurePath

from django.utils.safestring import SafeString, mark_safe
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer, SLexer, TextLexer

# The lexer for each code file extension the sandbox can run (see havenkit.sandbox.languages).
LEXERS = {".py": PythonLexer, ".R": SLexer}
# Every colour of Pygments' "xcode" style is at least 4.58:1 against #f0f4f5 (.hk-log).
STYLE = "xcode"
CSS_SCOPE = ".hk-highlight"
STYLESHEET_HEADER = (
    "/* Made by havenkit.workspaces.highlighting.stylesheet(); do not edit by hand. */"
)


def _formatter() -> HtmlFormatter:
    # nowrap: only the token spans; the template supplies the labelled <pre><code> around them.
    return HtmlFormatter(style=STYLE, nowrap=True)


def highlighted(file_name: str, code: str) -> SafeString:
    """``code`` as HTML with its tokens in coloured spans; Pygments escapes the text itself."""
    lexer = LEXERS.get(PurePath(file_name).suffix, TextLexer)
    return mark_safe(highlight(code, lexer(), _formatter()))  # noqa: S308


def changes(file_name: str, before: str, after: str) -> str:
    """What a new version changed, as a unified diff with three lines of context; "" if none.

    Shown as plain text: the ``-`` and ``+`` at each line's start say what was taken out and
    put in, which colour alone must not (WCAG 1.4.1).
    """
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile=f"{file_name} (before)",
            tofile=f"{file_name} (this version)",
        )
    )


def stylesheet() -> str:
    """The CSS of the token colours, without a background so the panel keeps its own."""
    rules = _formatter().get_style_defs(CSS_SCOPE).splitlines()
    kept = [rule for rule in rules if rule.startswith(f"{CSS_SCOPE} .") and "{ color:" in rule]
    return "\n".join([STYLESHEET_HEADER, *kept, ""])
