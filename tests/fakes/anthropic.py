"""Fake Anthropic upstream: POST /v1/messages in the real Messages wire format (JSON and SSE)."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from tests.fakes.openai import words
from tests.fakes.server import FakeUpstream, Rejected, Wire

# Top-level fields the Messages API accepts; it rejects any other ("Extra inputs are not permitted").
FIELDS = frozenset({
    "model", "messages", "max_tokens", "system", "metadata", "stop_sequences", "stream", "temperature",
    "top_p", "top_k", "tools", "tool_choice", "thinking", "service_tier", "container", "mcp_servers",
})
ERROR_TYPES = {
    400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
    404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error", 500: "api_error",
    504: "timeout_error", 529: "overloaded_error",
}
BLOCKS = {
    "user": {"text", "image", "tool_result", "document"},
    "assistant": {"text", "tool_use", "thinking"},
}
TOOL_CHOICES = {"auto", "any", "tool", "none"}
MESSAGE_ID = "msg_01FakeAnthropicReply"
TOOL_ID = "toolu_01FakeToolCall"


def event(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: ".encode() + orjson.dumps(data) + b"\n\n"


def _check_headers(request: web.Request) -> None:
    if not request.headers.get("x-api-key"):
        raise Rejected(401, "x-api-key header is required")
    if not request.headers.get("anthropic-version"):
        raise Rejected(400, "anthropic-version: header is required")


def _check_messages(messages: Any) -> None:
    if not isinstance(messages, list) or not messages:
        raise Rejected(400, "messages: at least one message is required")
    for i, message in enumerate(messages):
        role = message.get("role") if isinstance(message, dict) else None
        if role not in BLOCKS:
            raise Rejected(400, f'messages.{i}.role: Unexpected role "{role}". The Messages API '
                           'accepts a top-level `system` parameter, not "system" as an input message role.')
        content = message.get("content")
        if isinstance(content, str):
            continue
        if not isinstance(content, list) or not content:
            raise Rejected(400, f"messages.{i}.content: must be a string or a non-empty list of blocks")
        for j, block in enumerate(content):
            _check_block(f"messages.{i}.content.{j}", role, block)


def _check_block(where: str, role: str, block: Any) -> None:
    kind = block.get("type") if isinstance(block, dict) else None
    if kind not in BLOCKS[role]:
        raise Rejected(400, f"{where}.type: '{kind}' is not allowed in a {role} message")
    if kind == "text" and not block.get("text"):
        raise Rejected(400, f"{where}.text: text content blocks must be non-empty")
    if kind == "tool_use" and not isinstance(block.get("input"), dict):
        raise Rejected(400, f"{where}.input: Input should be a valid dictionary")
    if kind == "image" and (block.get("source") or {}).get("type") not in ("base64", "url"):
        raise Rejected(400, f"{where}.source: Input tag does not match any of the expected tags")


def _check_tools(body: dict[str, Any]) -> None:
    for i, tool in enumerate(body.get("tools") or ()):
        extra = set(tool) - {"name", "description", "input_schema", "cache_control", "type"}
        if extra:
            raise Rejected(400, f"tools.{i}.{sorted(extra)[0]}: Extra inputs are not permitted")
        if not isinstance(tool.get("input_schema"), dict) or not tool.get("name"):
            raise Rejected(400, f"tools.{i}.input_schema: Field required")
    choice = body.get("tool_choice")
    if choice is not None and (not isinstance(choice, dict) or choice.get("type") not in TOOL_CHOICES):
        raise Rejected(400, "tool_choice: Input tag does not match any of the expected tags")


def _check_body(body: Any) -> None:
    if isinstance(body, str):  # the fake server keeps a body that is not JSON as its text
        raise Rejected(400, "Request body is not valid JSON")
    if not isinstance(body, dict):
        raise Rejected(400, "Request body must be a JSON object")
    extra = sorted(set(body) - FIELDS)
    if extra:
        raise Rejected(400, f"{extra[0]}: Extra inputs are not permitted")
    for name in ("model", "max_tokens"):
        if name not in body:
            raise Rejected(400, f"{name}: Field required")
    temperature = body.get("temperature", 0)
    if not isinstance(temperature, (int, float)) or not 0 <= temperature <= 1:
        raise Rejected(400, "temperature: Input should be less than or equal to 1")
    stops = body.get("stop_sequences", [])
    if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops):
        raise Rejected(400, "stop_sequences: Input should be a valid list of strings")
    if set(body.get("metadata") or {}) - {"user_id"}:
        raise Rejected(400, "metadata: only user_id is accepted")
    _check_messages(body.get("messages"))
    _check_tools(body)


class AnthropicWire(Wire):
    routes = [("POST", "/v1/messages")]
    cut_after = 3  # message_start, content_block_start, ping, then the first delta

    def check(self, request: web.Request, body: Any) -> tuple[int, Any] | None:
        try:
            _check_headers(request)
            _check_body(body)
        except Rejected as exc:
            return exc.status, self.error_body(exc.status, exc.message)
        return None

    def is_stream(self, request: web.Request, body: Any) -> bool:
        return isinstance(body, dict) and bool(body.get("stream"))

    def _content(self, fake: FakeUpstream) -> tuple[list[dict[str, Any]], str]:
        if fake.tool_call:
            call = {"type": "tool_use", "id": TOOL_ID, "name": fake.tool_call["name"],
                    "input": fake.tool_call["arguments"]}
            return [call], "tool_use"
        return [{"type": "text", "text": fake.reply}], "end_turn"

    def completion(self, body: Any, fake: FakeUpstream, request: web.Request) -> Any:
        content, stop_reason = self._content(fake)
        prompt, completion = fake.usage
        return {
            "id": MESSAGE_ID, "type": "message", "role": "assistant", "model": body["model"],
            "content": content, "stop_reason": stop_reason, "stop_sequence": None,
            "usage": {"input_tokens": prompt, "output_tokens": completion,
                      "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0},
        }

    def stream_events(self, body: Any, fake: FakeUpstream, request: web.Request) -> list[bytes]:
        content, stop_reason = self._content(fake)
        prompt, completion = fake.usage
        message = {"id": MESSAGE_ID, "type": "message", "role": "assistant", "model": body["model"],
                   "content": [], "stop_reason": None, "stop_sequence": None,
                   "usage": {"input_tokens": prompt, "output_tokens": 1}}
        block = dict(content[0], input={}) if fake.tool_call else {"type": "text", "text": ""}
        if fake.tool_call:
            args = orjson.dumps(fake.tool_call["arguments"]).decode()
            half = len(args) // 2
            pieces = (args[:half], args[half:])
            deltas = [{"type": "input_json_delta", "partial_json": p} for p in pieces]
        else:
            deltas = [{"type": "text_delta", "text": piece} for piece in words(fake.reply)]
        return [
            event("message_start", {"type": "message_start", "message": message}),
            event("content_block_start",
                  {"type": "content_block_start", "index": 0, "content_block": block}),
            event("ping", {"type": "ping"}),
            *(event("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": d})
              for d in deltas),
            event("content_block_stop", {"type": "content_block_stop", "index": 0}),
            event("message_delta", {"type": "message_delta",
                                    "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                                    "usage": {"output_tokens": completion}}),
            event("message_stop", {"type": "message_stop"}),
        ]

    def error_body(self, status: int, message: str) -> Any:
        kind = ERROR_TYPES.get(status, "api_error")
        return {"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_fake"}

    def error_event(self, message: str) -> bytes:
        error = {"type": "overloaded_error", "message": message}
        return event("error", {"type": "error", "error": error})


def fake_anthropic() -> FakeUpstream:
    return FakeUpstream(AnthropicWire()).start()
