"""What other apps may ask of outputs."""

from typing import Any


def requests_awaiting_review(user: Any) -> list:
    """Release requests this output checker may review and has not yet reviewed."""
    raise NotImplementedError("built by the release-request work")
