"""Anthropic Messages SSE events → OpenAI `chat.completion.chunk` payloads."""

from __future__ import annotations

from typing import Any

from providers.wire.anthropic.response import (
    FINISH_REASONS,
    openai_tool_call,
    openai_usage,
    relay_error,
)
from providers.wire.base import (
    MalformedUpstream,
    StreamTranslator,
    chunk,
    completion_id,
    loads_object,
    now,
    usage_chunk,
)

CONTENT_EVENTS = frozenset({"content_block_start", "content_block_delta", "message_delta", "message_stop"})


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

    def final_usage(self) -> dict[str, int] | None:
        return openai_usage(self.raw_usage) if self.raw_usage else None

    def _usage_chunks(self) -> list[bytes]:
        if not self.include_usage:
            return []
        return [usage_chunk(self.cid, self.model, self.created, openai_usage(self.raw_usage))]

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
        call = openai_tool_call(block)
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
