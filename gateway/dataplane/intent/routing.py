"""Intent routing inside the resolver (placeholder until routing preferences land)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gateway.dataplane.resolver import IntentChoice
    from gateway.dataplane.validation import ChatRequest
    from governance.snapshot import Snapshot


async def intent_choice(
    snapshot: Snapshot, request: ChatRequest, headers: Mapping[str, str]
) -> IntentChoice | None:
    """The matched preference route and its ranked models; None: no preferences or no match."""
    return None
