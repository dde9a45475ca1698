"""Gemini streamGenerateContent SSE events → OpenAI `chat.completion.chunk` payloads."""

from __future__ import annotations

from typing import Any

from providers.wire.base import (
    MalformedUpstream,
    StreamTranslator,
    chunk,
    completion_id,
    loads_object,
    now,
    usage_chunk,
)
from providers.wire.gemini.response import (
    blocked,
    finish_reason,
    google_error,
    openai_usage,
    read_candidate,
)

Json = dict[str, Any]


class GeminiStream(StreamTranslator):
    """Each `data:` event is a whole GenerateContentResponse with the next piece of the answer."""

    __slots__ = (
        "model", "include_usage", "cid", "created", "started", "finished", "calls", "usage"
    )

    def __init__(self, model: str, include_usage: bool) -> None:
        self.model, self.include_usage = model, include_usage
        self.cid, self.created = completion_id(), now()
        self.started: set[int] = set()
        self.finished: set[int] = set()
        self.calls: dict[int, int] = {}  # candidate index → tool calls sent so far
        self.usage: Json | None = None

    def final_usage(self) -> dict[str, int] | None:
        return openai_usage(self.usage) if self.usage else None

    def _chunk(self, index: int, delta: Json, finish: str | None = None) -> bytes:
        """A chunk for one candidate: Gemini may stream several."""
        return chunk(self.cid, self.model, self.created, delta, finish, index=index)

    def _candidate(self, candidate: Any) -> list[bytes]:
        index, text, calls, reason = read_candidate(candidate)
        if index in self.finished or not (text or calls or reason):
            return []
        delta: Json = {}
        if index not in self.started:
            self.started.add(index)
            delta = {"role": "assistant", "content": ""}
        if text:
            delta["content"] = text
        if calls:
            first = self.calls.get(index, 0)
            self.calls[index] = first + len(calls)
            delta["tool_calls"] = [{"index": first + k, **call} for k, call in enumerate(calls)]
        out = [self._chunk(index, delta)] if delta else []
        if reason:
            self.finished.add(index)
            out.append(self._chunk(index, {}, finish_reason(reason, index in self.calls)))
        return out

    def feed(self, event: str, data: str) -> list[bytes]:
        obj = loads_object(data, "Gemini stream event")
        if "error" in obj:
            raise google_error(None, obj, "Gemini reported an error mid-stream")
        if not self.started and isinstance(obj.get("responseId"), str):
            self.cid = obj["responseId"]
        self.usage = openai_usage(obj.get("usageMetadata")) or self.usage
        if blocked(obj) and 0 not in self.started:
            self.started.add(0)
            self.finished.add(0)
            opening = self._chunk(0, {"role": "assistant", "content": ""})
            return [opening, self._chunk(0, {}, "content_filter")]
        candidates = obj.get("candidates") or []
        if not isinstance(candidates, list):
            raise MalformedUpstream("Gemini sent a stream event with unreadable candidates")
        return [payload for candidate in candidates for payload in self._candidate(candidate)]

    def finish(self) -> list[bytes]:
        if not self.finished or self.started - self.finished:
            raise MalformedUpstream("stream ended before Gemini finished the answer")
        if self.include_usage and self.usage is not None:
            return [usage_chunk(self.cid, self.model, self.created, self.usage)]
        return []
