"""Fixtures for safe-projects tests."""

from tests.people.clearance import clear, clock

__all__ = ["clear", "clock"]
