"""Anthropic Messages wire format: OpenAI chat requests, answers, errors and streams ⇄ /v1/messages."""

from __future__ import annotations

from typing import Any

import orjson
from django.conf import settings

from providers.wire.anthropic.request import messages_body
from providers.wire.anthropic.response import (
    ERROR_TYPES,
    FINISH_REASONS,
    chat_completion,
    relay_error,
)
from providers.wire.anthropic.stream import AnthropicStream
from providers.wire.base import (
    StreamTranslator,
    Target,
    UpstreamError,
    UpstreamRequest,
    WireAdapter,
    error_from_payload,
)

__all__ = [
    "ERROR_TYPES",
    "FINISH_REASONS",
    "AnthropicAdapter",
    "AnthropicStream",
    "messages_body",
    "relay_error",
]


class AnthropicAdapter(WireAdapter):
    wire = "anthropic"

    def chat_request(self, target: Target, body: dict[str, Any], *, stream: bool) -> UpstreamRequest:
        headers = {
            "content-type": "application/json",
            "accept": "text/event-stream" if stream else "application/json",
            "anthropic-version": settings.ANTHROPIC_VERSION,
        }
        if target.api_key:
            headers["x-api-key"] = target.api_key
        payload = messages_body(body, model=target.model, stream=stream)
        return UpstreamRequest(f"{target.api_root}/messages", headers, orjson.dumps(payload))

    def chat_response(self, payload: bytes, *, model: str) -> dict[str, Any]:
        return chat_completion(payload, model=model)

    def error(self, status: int, payload: bytes) -> UpstreamError:
        return error_from_payload(status, payload, relay_error)

    def stream(self, *, model: str, include_usage: bool) -> StreamTranslator:
        return AnthropicStream(model=model, include_usage=include_usage)
