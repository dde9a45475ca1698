"""Compile the configured routing preferences for the snapshot (placeholder until intent routing lands)."""

from __future__ import annotations

from typing import Any


def compile_preferences() -> Any:
    return None
