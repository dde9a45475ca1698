"""OpenAI-compatible wire format (OpenAI, OpenRouter, Grok, Venice, llm-d, local agents): near pass-through."""

from __future__ import annotations

from typing import Any

import orjson

from providers.wire.base import (
    MalformedUpstream,
    StreamTranslator,
    Target,
    UpstreamError,
    UpstreamRequest,
    WireAdapter,
    error_from_payload,
    error_type_for,
    loads_object,
)


def relay_error(status: int, body: Any, fallback: str) -> UpstreamError:
    """An OpenAI-shaped `{"error": {...}}` (or anything else) → UpstreamError."""
    err = body.get("error") if isinstance(body, dict) else None
    if isinstance(err, dict):
        return UpstreamError(
            status,
            str(err.get("message") or fallback),
            type=str(err.get("type") or error_type_for(status)),
            code=err.get("code") if isinstance(err.get("code"), (str, type(None))) else str(err["code"]),
            param=err.get("param") if isinstance(err.get("param"), str) else None,
        )
    if isinstance(err, str):
        return UpstreamError(status, err, type=error_type_for(status))
    return UpstreamError(status, fallback, type=error_type_for(status))


class OpenAIStream(StreamTranslator):
    """OpenAI chunks are forwarded byte for byte; we only watch for errors, usage and the end."""

    __slots__ = ("done", "include_usage", "usage")

    def __init__(self, include_usage: bool) -> None:
        self.done = False
        self.include_usage = include_usage
        self.usage: dict[str, int] | None = None

    def feed(self, event: str, data: str) -> list[bytes]:
        if data == "[DONE]":
            self.done = True
            return []
        obj = loads_object(data, "stream chunk")
        if "error" in obj:
            raise relay_error(502, obj, "upstream reported an error mid-stream")
        if not self.done:
            for choice in obj.get("choices") or ():
                if isinstance(choice, dict) and choice.get("finish_reason"):
                    self.done = True
        if isinstance(obj.get("usage"), dict):
            self.usage = obj["usage"]
            if not obj.get("choices") and not self.include_usage:
                return []  # asked for metering only: the client did not ask for this chunk
        return [data.encode()]

    def finish(self) -> list[bytes]:
        if not self.done:
            raise MalformedUpstream("stream ended before the upstream finished the answer")
        return []

    def final_usage(self) -> dict[str, int] | None:
        return self.usage


class OpenAIAdapter(WireAdapter):
    wire = "openai"

    def chat_request(self, target: Target, body: dict[str, Any], *, stream: bool) -> UpstreamRequest:
        headers = {"content-type": "application/json", "accept": "application/json"}
        if target.api_key:
            headers["authorization"] = f"Bearer {target.api_key}"
        payload = dict(body, model=target.model)
        if stream:
            payload["stream"] = True
            if target.stream_usage:  # metering: the final chunk carries usage (hidden if unasked)
                payload["stream_options"] = {**(body.get("stream_options") or {}), "include_usage": True}
        return UpstreamRequest(f"{target.api_root}/chat/completions", headers, orjson.dumps(payload))

    def chat_response(self, payload: bytes, *, model: str) -> dict[str, Any]:
        obj = loads_object(payload, "upstream response")
        if "error" in obj and "choices" not in obj:
            raise relay_error(502, obj, "upstream returned an error with status 200")
        choices = obj.get("choices")
        if not isinstance(choices, list) or not choices or not all(isinstance(c, dict) for c in choices):
            raise MalformedUpstream("upstream response has no choices")
        obj.setdefault("object", "chat.completion")
        obj.setdefault("model", model)
        return obj

    def error(self, status: int, payload: bytes) -> UpstreamError:
        return error_from_payload(status, payload, relay_error)

    def stream(self, *, model: str, include_usage: bool) -> StreamTranslator:
        return OpenAIStream(include_usage)
