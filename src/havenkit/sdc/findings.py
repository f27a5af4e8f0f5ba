"""A check's verdict on a file, shared by the file checks, the margin checks and differencing."""

from collections.abc import Sequence
from dataclasses import dataclass

# How many cells a message names before it says "and N more".
CELLS_SHOWN = 10


@dataclass(frozen=True)
class FileFinding:
    """One rule's verdict on a file, worded for the researcher and the checker."""

    status: str
    rule: str
    message: str
    cells: tuple[tuple[str, str], ...] = ()


def cells_text(cells: Sequence[tuple[str, str]]) -> str:
    """Cells as "(row, column)", the first few of them, then how many more."""
    shown = ", ".join(f"({row}, {column})" for row, column in cells[:CELLS_SHOWN])
    more = len(cells) - CELLS_SHOWN
    return shown + (f" and {more} more" if more > 0 else "")
