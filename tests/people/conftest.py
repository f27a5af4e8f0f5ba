"""Fixtures for safe-people tests."""

from tests.people.clearance import clear, clock

__all__ = ["clear", "clock"]
