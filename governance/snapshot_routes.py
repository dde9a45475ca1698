"""Compile routes and nodes for the snapshot (placeholder until routes land): name/slug → route."""

from __future__ import annotations

from typing import Any


def compile_routes() -> dict[str, Any]:
    return {}
