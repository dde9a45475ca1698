"""Anthropic wire format (placeholder until the adapter lands)."""

from __future__ import annotations

from providers.wire.base import WireAdapter


class AnthropicAdapter(WireAdapter):
    wire = "anthropic"

    def chat_request(self, target, body, *, stream):  # type: ignore[no-untyped-def]
        raise NotImplementedError

    def chat_response(self, payload, *, model):  # type: ignore[no-untyped-def]
        raise NotImplementedError

    def error(self, status, payload):  # type: ignore[no-untyped-def]
        raise NotImplementedError

    def stream(self, *, model, include_usage):  # type: ignore[no-untyped-def]
        raise NotImplementedError
