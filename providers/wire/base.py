"""The common base of the wire adapters and the errors they raise."""

from __future__ import annotations

import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import orjson


class UpstreamError(Exception):
    """The upstream answered with an error; fields are already in OpenAI's error shape."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "upstream_error",
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param


class MalformedUpstream(Exception):
    """The upstream answered something we cannot read as its wire format (a 502)."""


class UnsupportedRequest(Exception):
    """The request uses something this wire format cannot express; `param` names it."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param
        self.message = message


@dataclass(frozen=True, slots=True)
class Target:
    """Where one attempt goes: the API root (e.g. `https://api.openai.com/v1`), key and model."""

    api_root: str
    api_key: str
    model: str
    stream_usage: bool = False  # ask the upstream for usage in streams (for metering)


@dataclass(slots=True)
class UpstreamRequest:
    url: str
    headers: dict[str, str]
    body: bytes


class StreamTranslator(ABC):
    """Turns one upstream SSE stream into OpenAI `chat.completion.chunk` JSON payloads."""

    @abstractmethod
    def feed(self, event: str, data: str) -> list[bytes]:
        """One SSE event in, zero or more chunk payloads out; raises UpstreamError on an error event."""

    @abstractmethod
    def finish(self) -> list[bytes]:
        """End of the upstream stream: trailing payloads; MalformedUpstream if it was cut short."""

    def final_usage(self) -> dict[str, int] | None:
        """The answer's token counts in OpenAI's shape, when the upstream reported them."""
        return None


class WireAdapter(ABC):
    wire: ClassVar[str]

    @abstractmethod
    def chat_request(self, target: Target, body: dict[str, Any], *, stream: bool) -> UpstreamRequest:
        """An OpenAI chat request body (already validated) → the upstream's HTTP request."""

    @abstractmethod
    def chat_response(self, payload: bytes, *, model: str) -> dict[str, Any]:
        """The upstream's 200 body → an OpenAI `chat.completion` dict; MalformedUpstream if unreadable."""

    @abstractmethod
    def error(self, status: int, payload: bytes) -> UpstreamError:
        """The upstream's error body (any status ≥ 400) → UpstreamError in OpenAI terms."""

    @abstractmethod
    def stream(self, *, model: str, include_usage: bool) -> StreamTranslator:
        """A translator for one streamed answer."""


def completion_id() -> str:
    return "chatcmpl-" + uuid.uuid4().hex


def now() -> int:
    return int(time.time())


def loads_object(payload: bytes | str, what: str) -> dict[str, Any]:
    """Parse a JSON object or raise MalformedUpstream naming what we were reading."""
    try:
        value = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise MalformedUpstream(f"{what} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise MalformedUpstream(f"{what} is not a JSON object")
    return value


def error_type_for(status: int) -> str:
    """OpenAI's error `type` for an HTTP status."""
    if status == 429:
        return "rate_limit_error"
    if status in (401, 403):
        return "authentication_error"
    if status == 404:
        return "not_found_error"
    if 400 <= status < 500:
        return "invalid_request_error"
    return "upstream_error"


def chunk(
    cid: str,
    model: str,
    created: int,
    delta: dict[str, Any],
    finish_reason: str | None = None,
    *,
    index: int = 0,
) -> bytes:
    """One `chat.completion.chunk` payload with a single choice (`index` when several stream)."""
    return orjson.dumps(
        {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": index, "delta": delta, "finish_reason": finish_reason}],
        }
    )


def usage_chunk(cid: str, model: str, created: int, usage: dict[str, int]) -> bytes:
    """The final chunk OpenAI sends with `stream_options.include_usage`: no choices, usage set."""
    return orjson.dumps(
        {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [],
            "usage": usage,
        }
    )


def usage(prompt: int, completion: int) -> dict[str, int]:
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def completion(
    cid: str, model: str, choices: list[dict[str, Any]], used: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A `chat.completion` answer; `usage` is left out when the upstream reported none."""
    answer: dict[str, Any] = {
        "id": cid,
        "object": "chat.completion",
        "created": now(),
        "model": model,
        "choices": choices,
    }
    if used is not None:
        answer["usage"] = used
    return answer


def tool_call(call_id: str, name: str, args: Any) -> dict[str, Any]:
    """An OpenAI tool call; the upstream's decoded arguments (None for none) become JSON text."""
    function = {"name": name, "arguments": orjson.dumps(args or {}).decode()}
    return {"id": call_id, "type": "function", "function": function}


def json_object(raw: Any) -> dict[str, Any] | None:
    """A JSON object, as text or already decoded → the dict; None for anything else."""
    try:
        value = orjson.loads(raw) if isinstance(raw, str) else raw
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def data_url(url: str) -> tuple[str, list[str], str] | None:
    """`data:<type>[;param]...,<data>` → (media type, params, data); None if either is missing."""
    head, sep, data = url.removeprefix("data:").partition(",")
    media_type, *params = head.split(";")
    if not sep or not media_type:
        return None
    return media_type, params, data


ErrorRelay = Callable[[int, Any, str], UpstreamError]


def error_from_payload(
    status: int, payload: bytes, relay: ErrorRelay, *, source: str = "upstream"
) -> UpstreamError:
    """An error response body → `relay(status, body, fallback)`; a non-JSON body → its own text."""
    fallback = f"{source} returned HTTP {status}"
    try:
        body = orjson.loads(payload)
    except orjson.JSONDecodeError:
        text = payload.decode("utf-8", "replace").strip()[:500]
        return UpstreamError(status, text or fallback, type=error_type_for(status))
    return relay(status, body, fallback)
