"""Anthropic Messages wire format: OpenAI chat requests, answers, errors and streams ⇄ /v1/messages."""

from __future__ import annotations

from typing import Any

import orjson
from django.conf import settings

from providers.wire.base import (
    MalformedUpstream,
    StreamTranslator,
    Target,
    UnsupportedRequest,
    UpstreamError,
    UpstreamRequest,
    WireAdapter,
    chunk,
    completion_id,
    error_type_for,
    loads_object,
    now,
    usage,
    usage_chunk,
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
CONTENT_EVENTS = frozenset({"content_block_start", "content_block_delta", "message_delta", "message_stop"})
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


# --- request -----------------------------------------------------------------
def _image(url: str, param: str) -> Block:
    if url.startswith("data:"):
        header, sep, data = url[5:].partition(",")
        media_type, *params = header.split(";")
        if not sep or not media_type or "base64" not in params:
            message = f"'{param}' must be a base64 data URL (data:<type>;base64,...)"
            raise UnsupportedRequest(param, message)
        return {"type": "image", "source": {"type": "base64", "media_type": media_type, "data": data}}
    if url.lower().startswith(("https://", "http://")):
        return {"type": "image", "source": {"type": "url", "url": url}}
    raise UnsupportedRequest(param, f"'{param}' must be an http(s) URL or a base64 data URL")


def _blocks(content: Any, param: str) -> list[Block]:
    """OpenAI message content (a string or parts) → Anthropic content blocks; empty text is dropped."""
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    blocks: list[Block] = []
    for j, part in enumerate(content or ()):
        kind = part.get("type")
        if kind in ("text", "refusal"):  # a refusal part carries its text under "refusal"
            text = part.get(kind)
            if isinstance(text, str) and text:
                blocks.append({"type": "text", "text": text})
        elif kind == "image_url":
            blocks.append(_image(part["image_url"]["url"], f"{param}[{j}].image_url.url"))
        else:
            message = f"Anthropic models do not accept '{kind}' content parts"
            raise UnsupportedRequest(f"{param}[{j}].type", message)
    return blocks


def _arguments(raw: Any, param: str) -> dict[str, Any]:
    if raw is None or raw == "":
        return {}
    try:
        value = orjson.loads(raw) if isinstance(raw, str) else raw
    except orjson.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        raise UnsupportedRequest(param, f"'{param}' must be a JSON object encoded as a string")
    return value


def _assistant(message: dict[str, Any], param: str) -> list[Block]:
    if message.get("function_call"):
        raise UnsupportedRequest(f"{param}.function_call", "Use 'tool_calls' instead of 'function_call'")
    blocks = _blocks(message.get("content"), f"{param}.content")
    for j, call in enumerate(message.get("tool_calls") or ()):
        where = f"{param}.tool_calls[{j}]"
        if not isinstance(call.get("id"), str) or not call["id"]:
            raise UnsupportedRequest(f"{where}.id", f"'{where}.id' is required")
        fn = call["function"]
        arguments = _arguments(fn.get("arguments"), f"{where}.function.arguments")
        blocks.append({"type": "tool_use", "id": call["id"], "name": fn["name"], "input": arguments})
    return blocks


def _tool_result(message: dict[str, Any], param: str) -> Block:
    block: Block = {"type": "tool_result", "tool_use_id": message["tool_call_id"]}
    content = message.get("content")
    result = content if isinstance(content, str) else _blocks(content, f"{param}.content")
    if result:
        block["content"] = result
    return block


def _system(content: Any, param: str) -> list[Block]:
    blocks = _blocks(content, param)
    if any(block["type"] != "text" for block in blocks):
        raise UnsupportedRequest(param, "System and developer messages may only contain text")
    return blocks


def _conversation(messages: list[dict[str, Any]]) -> tuple[list[Block], list[dict[str, Any]]]:
    """(system text blocks, user/assistant turns with consecutive same-role messages merged)."""
    system: list[Block] = []
    turns: list[dict[str, Any]] = []
    for i, message in enumerate(messages):
        role, param = message["role"], f"messages[{i}]"
        if role in ("system", "developer"):  # Anthropic has one top-level system prompt
            system += _system(message.get("content"), f"{param}.content")
            continue
        if role == "assistant":
            blocks = _assistant(message, param)
        elif role == "tool":
            role, blocks = "user", [_tool_result(message, param)]
        elif role == "user":
            blocks = _blocks(message.get("content"), f"{param}.content")
        else:
            message = "Use 'tool' messages instead of 'function' messages"
            raise UnsupportedRequest(f"{param}.role", message)
        if not blocks:
            continue
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    for turn in turns:  # Anthropic wants tool results ahead of any text in their turn
        turn["content"].sort(key=lambda block: block["type"] != "tool_result")
    return system, turns


def _tool_choice(choice: Any) -> Block | None:
    if choice is None:
        return None
    if isinstance(choice, dict):
        return {"type": "tool", "name": choice["function"]["name"]}
    return {"type": {"auto": "auto", "required": "any", "none": "none"}[choice]}


def _tool_fields(body: dict[str, Any]) -> dict[str, Any]:
    tools = body.get("tools")
    if not tools:
        return {}
    out: dict[str, Any] = {"tools": []}
    for tool in tools:
        fn = tool["function"]
        spec: Block = {"name": fn["name"], "input_schema": fn.get("parameters") or {"type": "object"}}
        if fn.get("description"):
            spec["description"] = fn["description"]
        out["tools"].append(spec)
    choice = _tool_choice(body.get("tool_choice"))
    if body.get("parallel_tool_calls") is False:
        choice = choice or {"type": "auto"}
        if choice["type"] != "none":
            choice["disable_parallel_tool_use"] = True
    if choice:
        out["tool_choice"] = choice
    return out


def _refuse_unsupported(body: dict[str, Any]) -> None:
    """OpenAI fields that change what the caller gets back and that Anthropic cannot honour."""
    if (body.get("n") or 1) > 1:
        raise UnsupportedRequest("n", "Anthropic models return a single choice; 'n' must be 1")
    if body.get("logprobs"):
        raise UnsupportedRequest("logprobs", "Anthropic models do not return log probabilities")
    fmt = body.get("response_format")
    if isinstance(fmt, dict) and fmt.get("type") not in (None, "text"):
        raise UnsupportedRequest("response_format", "Anthropic models do not support 'response_format'")
    if body.get("functions"):
        raise UnsupportedRequest("functions", "Use 'tools' instead of 'functions'")


def messages_body(body: dict[str, Any], *, model: str, stream: bool) -> dict[str, Any]:
    """An OpenAI chat body → a Messages API body. Fields Anthropic has no use for are dropped,
    since it rejects unknown ones. Temperature is clamped to Anthropic's 0..1: its top is the
    closest it has to OpenAI's hotter settings, and refusing would break portable clients."""
    _refuse_unsupported(body)
    system, turns = _conversation(body["messages"])
    out: dict[str, Any] = {"model": model, "messages": turns}
    if system:
        out["system"] = system[0]["text"] if len(system) == 1 else system
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    out["max_tokens"] = limit or settings.ANTHROPIC_DEFAULT_MAX_TOKENS
    if body.get("temperature") is not None:
        out["temperature"] = min(body["temperature"], 1)
    if body.get("top_p") is not None:
        out["top_p"] = body["top_p"]
    stop = body.get("stop")
    if stop:
        out["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
    if isinstance(body.get("user"), str) and body["user"]:
        out["metadata"] = {"user_id": body["user"]}
    out.update(_tool_fields(body))
    if stream:
        out["stream"] = True
    return out


# --- answers and errors ----------------------------------------------------------
def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _prompt_tokens(raw: dict[str, Any]) -> int:
    """Anthropic counts cached prompt tokens apart from `input_tokens`; OpenAI counts them in."""
    keys = ("input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")
    return sum(_int(raw.get(key)) for key in keys)


def _usage(raw: Any) -> dict[str, Any]:
    raw = raw if isinstance(raw, dict) else {}
    out: dict[str, Any] = usage(_prompt_tokens(raw), _int(raw.get("output_tokens")))
    if _int(raw.get("cache_read_input_tokens")):
        out["prompt_tokens_details"] = {"cached_tokens": raw["cache_read_input_tokens"]}
    return out


def _tool_call(block: Block) -> dict[str, Any]:
    if not isinstance(block.get("id"), str) or not isinstance(block.get("name"), str):
        raise MalformedUpstream("upstream tool_use block has no id or name")
    arguments = orjson.dumps(block.get("input") or {}).decode()
    function = {"name": block["name"], "arguments": arguments}
    return {"id": block["id"], "type": "function", "function": function}


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
            calls.append(_tool_call(block))
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


class AnthropicStream(StreamTranslator):
    """Messages SSE events → OpenAI chunks; tool calls are numbered from 0 in arrival order."""

    __slots__ = (
        "model", "include_usage", "cid", "created", "tools", "argless", "raw_usage", "finish_reason",
        "stopped",
    )

    def __init__(self, *, model: str, include_usage: bool) -> None:
        self.model, self.include_usage = model, include_usage
        self.cid, self.created = "", now()
        self.tools: dict[int, int] = {}  # Anthropic block index → OpenAI tool-call index
        self.argless: set[int] = set()  # tool blocks that have not sent any input yet
        self.raw_usage: dict[str, Any] = {}
        self.finish_reason: str | None = None
        self.stopped = False

    def _chunk(self, delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
        return chunk(self.cid, self.model, self.created, delta, finish_reason)

    def _usage_chunks(self) -> list[bytes]:
        if not self.include_usage:
            return []
        return [usage_chunk(self.cid, self.model, self.created, _usage(self.raw_usage))]

    def feed(self, event: str, data: str) -> list[bytes]:
        obj = loads_object(data, "stream event")
        kind = obj.get("type") or event
        if kind == "error":
            raise relay_error(None, obj, "upstream reported an error mid-stream")
        if kind == "message_start":
            return self._start(obj.get("message"))
        if kind in CONTENT_EVENTS and not self.cid:
            raise MalformedUpstream(f"stream sent {kind} before message_start")
        if kind == "content_block_start":
            return self._block_start(obj.get("index"), obj.get("content_block"))
        if kind == "content_block_delta":
            return self._block_delta(obj.get("index"), obj.get("delta"))
        if kind == "message_delta":
            return self._message_delta(obj)
        if kind == "content_block_stop" and obj.get("index") in self.argless:
            return self._block_stop(obj["index"])
        if kind == "message_stop" and not self.stopped:
            self.stopped = True
            return self._usage_chunks()
        return []  # ping, content_block_stop, and event types Anthropic may add later

    def _start(self, message: Any) -> list[bytes]:
        if not isinstance(message, dict):
            raise MalformedUpstream("message_start has no message")
        self.cid = str(message.get("id") or completion_id())
        self.model = str(message.get("model") or self.model)
        if isinstance(message.get("usage"), dict):
            self.raw_usage.update(message["usage"])
        return [self._chunk({"role": "assistant", "content": ""})]

    def _block_start(self, index: Any, block: Any) -> list[bytes]:
        if not isinstance(block, dict):
            raise MalformedUpstream("content_block_start has no content_block")
        if block.get("type") == "text" and block.get("text"):
            return [self._chunk({"content": block["text"]})]
        if block.get("type") != "tool_use":
            return []
        call = _tool_call(block)
        call["function"]["arguments"] = ""  # the input arrives as input_json_delta events
        self.tools[index] = position = len(self.tools)
        self.argless.add(index)
        return [self._chunk({"tool_calls": [{"index": position, **call}]})]

    def _block_delta(self, index: Any, delta: Any) -> list[bytes]:
        kind = delta.get("type") if isinstance(delta, dict) else None
        if kind == "text_delta" and delta.get("text"):
            return [self._chunk({"content": delta["text"]})]
        if kind == "input_json_delta" and delta.get("partial_json"):
            if index not in self.tools:
                raise MalformedUpstream("input_json_delta for a block that is not a tool_use")
            self.argless.discard(index)
            arguments = {"arguments": delta["partial_json"]}
            return [self._chunk({"tool_calls": [{"index": self.tools[index], "function": arguments}]})]
        return []  # thinking, signature and citations deltas have no OpenAI counterpart

    def _block_stop(self, index: int) -> list[bytes]:
        """A tool called without input: OpenAI clients expect arguments "{}", not ""."""
        self.argless.discard(index)
        arguments = {"arguments": "{}"}
        return [self._chunk({"tool_calls": [{"index": self.tools[index], "function": arguments}]})]

    def _message_delta(self, obj: dict[str, Any]) -> list[bytes]:
        if isinstance(obj.get("usage"), dict):  # cumulative counts: later values win
            self.raw_usage.update({k: v for k, v in obj["usage"].items() if v is not None})
        reason = (obj.get("delta") or {}).get("stop_reason")
        if not reason or self.finish_reason:
            return []
        self.finish_reason = FINISH_REASONS.get(reason, "stop")
        return [self._chunk({}, self.finish_reason)]

    def finish(self) -> list[bytes]:
        if self.stopped:
            return []
        if self.finish_reason is None:
            raise MalformedUpstream("stream ended before the upstream finished the answer")
        self.stopped = True
        return self._usage_chunks()


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
        obj = loads_object(payload, "upstream response")
        if obj.get("type") == "error":
            raise relay_error(502, obj, "upstream returned an error with status 200")
        if obj.get("type") != "message" or not isinstance(obj.get("content"), list):
            raise MalformedUpstream("upstream response is not a Messages API message")
        return {
            "id": str(obj.get("id") or completion_id()),
            "object": "chat.completion",
            "created": now(),
            "model": str(obj.get("model") or model),
            "choices": [{
                "index": 0,
                "message": _message(obj["content"]),
                "finish_reason": FINISH_REASONS.get(obj.get("stop_reason") or "", "stop"),
                "logprobs": None,
            }],
            "usage": _usage(obj.get("usage")),
        }

    def error(self, status: int, payload: bytes) -> UpstreamError:
        try:
            body = orjson.loads(payload)
        except orjson.JSONDecodeError:
            text = payload.decode("utf-8", "replace").strip()[:500] or f"upstream returned HTTP {status}"
            return UpstreamError(status, text, type=error_type_for(status))
        return relay_error(status, body, f"upstream returned HTTP {status}")

    def stream(self, *, model: str, include_usage: bool) -> StreamTranslator:
        return AnthropicStream(model=model, include_usage=include_usage)
