"""Google Gemini wire format (Generative Language API): generateContent and its SSE stream."""

from __future__ import annotations

import orjson

from providers.wire.base import (
    StreamTranslator,
    Target,
    UpstreamError,
    UpstreamRequest,
    WireAdapter,
    error_from_payload,
)
from providers.wire.gemini.request import Json, generate_body, model_path
from providers.wire.gemini.response import (
    ERROR_TYPES,
    FINISH_REASONS,
    chat_completion,
    google_error,
)
from providers.wire.gemini.stream import GeminiStream

__all__ = [
    "ERROR_TYPES",
    "FINISH_REASONS",
    "GeminiAdapter",
    "GeminiStream",
    "generate_body",
    "google_error",
    "model_path",
]


class GeminiAdapter(WireAdapter):
    wire = "gemini"

    def chat_request(self, target: Target, body: Json, *, stream: bool) -> UpstreamRequest:
        payload = generate_body(body)
        method = "streamGenerateContent?alt=sse" if stream else "generateContent"
        accept = "text/event-stream" if stream else "application/json"
        headers = {"content-type": "application/json", "accept": accept}
        if target.api_key:
            headers["x-goog-api-key"] = target.api_key  # never `?key=`: URLs end up in logs
        url = f"{target.api_root}/{model_path(target.model)}:{method}"
        return UpstreamRequest(url, headers, orjson.dumps(payload))

    def chat_response(self, payload: bytes, *, model: str) -> Json:
        return chat_completion(payload, model=model)

    def error(self, status: int, payload: bytes) -> UpstreamError:
        return error_from_payload(status, payload, google_error, source="Gemini")

    def stream(self, *, model: str, include_usage: bool) -> StreamTranslator:
        return GeminiStream(model, include_usage)
