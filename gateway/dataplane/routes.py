"""`route/<name>` requests: routes in auto, specific and multi mode (placeholder until routes land)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gateway.dataplane.resolver import Resolution
    from gateway.dataplane.validation import ChatRequest
    from governance.snapshot import Snapshot


async def route_resolution(
    snapshot: Snapshot, request: ChatRequest, name: str, headers: Mapping[str, str]
) -> Resolution | None:
    """The candidate chain of route `name`, or None when no such route exists."""
    return None
