"""W3C trace context: honour an incoming `traceparent`, else start a trace; one span per request."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
_ZERO_TRACE = "0" * 32
_ZERO_SPAN = "0" * 16


@dataclass(frozen=True, slots=True)
class Trace:
    trace_id: str  # 32 hex digits, shared by every hop of the request
    span_id: str  # 16 hex digits: the gateway's own span, the parent of the upstream call
    flags: str = "01"

    @property
    def traceparent(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-{self.flags}"


def trace_from(headers: dict[str, str]) -> Trace:
    """Continue the caller's trace when its `traceparent` is valid; start a new one otherwise."""
    match = _TRACEPARENT.match(headers.get("traceparent", "").strip().lower())
    span = os.urandom(8).hex()
    if match and match[1] != "ff" and match[2] != _ZERO_TRACE and match[3] != _ZERO_SPAN:
        return Trace(match[2], span, match[4])
    return Trace(os.urandom(16).hex(), span)
