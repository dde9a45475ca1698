"""Anthropic Messages answers and error bodies → OpenAI chat completions and UpstreamErrors."""

from __future__ import annotations

from typing import Any

from providers.wire.base import (
    MalformedUpstream,
    UpstreamError,
    completion,
    completion_id,
    error_type_for,
    loads_object,
    tool_call,
    usage,
)

Block = dict[str, Any]

FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}
# Anthropic error type → (OpenAI error type, the HTTP status it comes with). Stream
# error events carry no status, so the second field is what we report for them.
ERROR_TYPES: dict[str, tuple[str, int]] = {
    "invalid_request_error": ("invalid_request_error", 400),
    "authentication_error": ("authentication_error", 401),
    "permission_error": ("authentication_error", 403),
    "not_found_error": ("not_found_error", 404),
    "request_too_large": ("invalid_request_error", 413),
    "rate_limit_error": ("rate_limit_error", 429),
    "api_error": ("upstream_error", 500),
    "timeout_error": ("upstream_error", 504),
    "overloaded_error": ("upstream_error", 529),
}


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _prompt_tokens(raw: dict[str, Any]) -> int:
    """Anthropic counts cached prompt tokens apart from `input_tokens`; OpenAI counts them in."""
    keys = ("input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")
    return sum(_int(raw.get(key)) for key in keys)


def openai_usage(raw: Any) -> dict[str, Any]:
    """Anthropic's `usage` (from a message or the stream's events) → OpenAI's `usage`."""
    raw = raw if isinstance(raw, dict) else {}
    out: dict[str, Any] = usage(_prompt_tokens(raw), _int(raw.get("output_tokens")))
    if _int(raw.get("cache_read_input_tokens")):
        out["prompt_tokens_details"] = {"cached_tokens": raw["cache_read_input_tokens"]}
    return out


def openai_tool_call(block: Block) -> dict[str, Any]:
    """A `tool_use` content block → an OpenAI tool call."""
    if not isinstance(block.get("id"), str) or not isinstance(block.get("name"), str):
        raise MalformedUpstream("upstream tool_use block has no id or name")
    return tool_call(block["id"], block["name"], block.get("input"))


def _message(content: list[Any]) -> dict[str, Any]:
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    for block in content:
        if not isinstance(block, dict):
            raise MalformedUpstream("upstream content block is not an object")
        if block.get("type") == "text":
            if not isinstance(block.get("text"), str):
                raise MalformedUpstream("upstream text block has no text")
            texts.append(block["text"])
        elif block.get("type") == "tool_use":
            calls.append(openai_tool_call(block))
        # thinking, redacted_thinking and server-tool blocks have no OpenAI counterpart
    text = "".join(texts) if texts or not calls else None
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if calls:
        message["tool_calls"] = calls
    return message


def relay_error(status: int | None, body: Any, fallback: str) -> UpstreamError:
    """`{"type": "error", "error": {"type", "message"}}` → UpstreamError; `status` None means
    a stream error event, whose status follows from its type."""
    err = body.get("error") if isinstance(body, dict) else None
    kind = err.get("type") if isinstance(err, dict) else None
    message = err.get("message") if isinstance(err, dict) else err
    text = message if isinstance(message, str) and message else fallback
    if isinstance(kind, str) and kind in ERROR_TYPES:
        mapped, usual = ERROR_TYPES[kind]
        return UpstreamError(status or usual, text, type=mapped)
    return UpstreamError(status or 502, text, type=error_type_for(status or 502))


def chat_completion(payload: bytes, *, model: str) -> dict[str, Any]:
    """A Messages API 200 body → an OpenAI `chat.completion`."""
    obj = loads_object(payload, "upstream response")
    if obj.get("type") == "error":
        raise relay_error(502, obj, "upstream returned an error with status 200")
    if obj.get("type") != "message" or not isinstance(obj.get("content"), list):
        raise MalformedUpstream("upstream response is not a Messages API message")
    choice = {
        "index": 0,
        "message": _message(obj["content"]),
        "finish_reason": FINISH_REASONS.get(obj.get("stop_reason") or "", "stop"),
        "logprobs": None,
    }
    cid = str(obj.get("id") or completion_id())
    return completion(cid, str(obj.get("model") or model), [choice], openai_usage(obj.get("usage")))
