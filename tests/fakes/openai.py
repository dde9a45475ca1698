"""Fake OpenAI-compatible upstream: /v1/chat/completions (JSON and SSE) and /v1/models."""

from __future__ import annotations

import time
from typing import Any

import orjson
from aiohttp import web

from tests.fakes.server import FakeUpstream, Recorded, Wire


def words(text: str) -> list[str]:
    """Split a reply into stream pieces that join back to the exact text."""
    parts = text.split(" ")
    return [p + (" " if i < len(parts) - 1 else "") for i, p in enumerate(parts)]


def sse(obj: Any) -> bytes:
    return b"data: " + orjson.dumps(obj) + b"\n\n"


class OpenAIWire(Wire):
    routes = [("POST", "/v1/chat/completions")]

    def __init__(self) -> None:
        self.models: list[str] = ["gpt-4o", "gpt-4o-mini"]

    def is_stream(self, request: web.Request, body: Any) -> bool:
        return isinstance(body, dict) and bool(body.get("stream"))

    def _message(self, fake: FakeUpstream) -> tuple[dict[str, Any], str]:
        if fake.tool_call:
            call = {
                "id": "call_fake1",
                "type": "function",
                "function": {
                    "name": fake.tool_call["name"],
                    "arguments": orjson.dumps(fake.tool_call["arguments"]).decode(),
                },
            }
            return {"role": "assistant", "content": None, "tool_calls": [call]}, "tool_calls"
        return {"role": "assistant", "content": fake.reply}, "stop"

    def completion(self, body: Any, fake: FakeUpstream, request: web.Request) -> Any:
        message, finish = self._message(fake)
        prompt, completion = fake.usage
        return {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model"),
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
        }

    def stream_events(self, body: Any, fake: FakeUpstream, request: web.Request) -> list[bytes]:
        base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()), "model": body.get("model")}

        def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
            return sse({**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})

        events = [chunk({"role": "assistant", "content": ""})]
        message, finish = self._message(fake)
        if fake.tool_call:
            call = message["tool_calls"][0]
            args = call["function"]["arguments"]
            events.append(chunk({"tool_calls": [{"index": 0, "id": call["id"], "type": "function",
                                                  "function": {"name": call["function"]["name"], "arguments": ""}}]}))
            half = len(args) // 2
            for piece in (args[:half], args[half:]):
                events.append(chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}))
        else:
            events += [chunk({"content": piece}) for piece in words(fake.reply)]
        events.append(chunk({}, finish))
        if (body.get("stream_options") or {}).get("include_usage"):
            prompt, completion = fake.usage
            events.append(sse({**base, "choices": [], "usage": {
                "prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}}))
        events.append(b"data: [DONE]\n\n")
        return events

    def error_body(self, status: int, message: str) -> Any:
        kind = "rate_limit_error" if status == 429 else "server_error"
        return {"error": {"message": message, "type": kind, "param": None, "code": str(status)}}

    def error_event(self, message: str) -> bytes:
        return sse({"error": {"message": message, "type": "server_error", "param": None, "code": None}})

    def extra_routes(self, fake: FakeUpstream) -> list[web.RouteDef]:
        async def list_models(request: web.Request) -> web.Response:
            fake.requests.append(Recorded(request.path, dict(request.headers), dict(request.query), None))
            data = [{"id": m, "object": "model", "created": 1700000000, "owned_by": "openai"} for m in self.models]
            return web.json_response({"object": "list", "data": data})

        return [web.get("/v1/models", list_models)]


def fake_openai() -> FakeUpstream:
    return FakeUpstream(OpenAIWire()).start()
