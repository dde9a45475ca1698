"""Gemini GenerateContentResponse and error bodies → OpenAI chat completions and UpstreamErrors."""

from __future__ import annotations

import uuid
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

FILTERED = ("SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY")
FINISH_REASONS = {"MAX_TOKENS": "length"} | dict.fromkeys(FILTERED, "content_filter")
ERROR_TYPES = {
    "RESOURCE_EXHAUSTED": "rate_limit_error",
    "UNAUTHENTICATED": "authentication_error",
    "PERMISSION_DENIED": "authentication_error",
    "INVALID_ARGUMENT": "invalid_request_error",
    "NOT_FOUND": "not_found_error",
}
Json = dict[str, Any]


def _tool_call(part: Json) -> Json:
    fn = part["functionCall"]
    if not isinstance(fn.get("name"), str):
        raise MalformedUpstream("Gemini sent a function call without a name")
    call = tool_call(fn.get("id") or "call_" + uuid.uuid4().hex[:24], fn["name"], fn.get("args"))
    if isinstance(part.get("thoughtSignature"), str):
        call["extra_content"] = {"google": {"thought_signature": part["thoughtSignature"]}}
    return call


def read_candidate(candidate: Any) -> tuple[int, str, list[Json], str | None]:
    """One candidate → (index, answer text, tool calls, finishReason); thoughts are left out."""
    if not isinstance(candidate, dict):
        raise MalformedUpstream("Gemini sent a candidate that is not an object")
    content = candidate.get("content") or {}
    parts = (content.get("parts") or []) if isinstance(content, dict) else None
    if not isinstance(parts, list) or not all(isinstance(p, dict) for p in parts):
        raise MalformedUpstream("Gemini sent a candidate without readable parts")
    texts = [p["text"] for p in parts if isinstance(p.get("text"), str) and not p.get("thought")]
    calls = [_tool_call(p) for p in parts if isinstance(p.get("functionCall"), dict)]
    index, reason = candidate.get("index"), candidate.get("finishReason")
    reason = reason if isinstance(reason, str) else None
    return index if isinstance(index, int) else 0, "".join(texts), calls, reason


def finish_reason(reason: str | None, has_calls: bool) -> str:
    """Gemini's finishReason → OpenAI's; a plain STOP after tool calls is "tool_calls"."""
    if reason in FINISH_REASONS:
        return FINISH_REASONS[reason]
    return "tool_calls" if has_calls else "stop"


def openai_usage(meta: Any) -> Json | None:
    """Gemini's `usageMetadata` → OpenAI's `usage` (thought tokens count as completion)."""
    if not isinstance(meta, dict):
        return None
    count = {k: v for k, v in meta.items() if isinstance(v, int)}
    thoughts = count.get("thoughtsTokenCount", 0)
    prompt = count.get("promptTokenCount", 0) + count.get("toolUsePromptTokenCount", 0)
    out: Json = usage(prompt, count.get("candidatesTokenCount", 0) + thoughts)
    out["total_tokens"] = count.get("totalTokenCount", out["total_tokens"])
    if thoughts:
        out["completion_tokens_details"] = {"reasoning_tokens": thoughts}
    if count.get("cachedContentTokenCount"):
        out["prompt_tokens_details"] = {"cached_tokens": count["cachedContentTokenCount"]}
    return out


def blocked(obj: Json) -> bool:
    """Gemini refused the prompt itself: no candidates, a promptFeedback.blockReason."""
    feedback = obj.get("promptFeedback")
    refused = isinstance(feedback, dict) and bool(feedback.get("blockReason"))
    return refused and not obj.get("candidates")


def _choice(candidate: Any) -> Json:
    index, text, calls, reason = read_candidate(candidate)
    message: Json = {"role": "assistant", "content": text or (None if calls else "")}
    if calls:
        message["tool_calls"] = calls
    finish = finish_reason(reason, bool(calls))
    return {"index": index, "message": message, "finish_reason": finish}


def _detail(err: Json, key: str) -> Any:
    """The first value under `key` among the error's typed details (ErrorInfo, BadRequest)."""
    for detail in err.get("details") or ():
        if isinstance(detail, dict) and detail.get(key):
            return detail[key]
    return None


def _field(err: Json) -> str | None:
    """The request field a BadRequest detail blames, as the OpenAI error's `param`."""
    violations = _detail(err, "fieldViolations")
    first = violations[0] if isinstance(violations, list) and violations else None
    field = first.get("field") if isinstance(first, dict) else None
    return field if isinstance(field, str) else None


def google_error(status: int | None, body: Any, fallback: str) -> UpstreamError:
    """Google's `{"error": {code, message, status}}` (alone or in a list) → UpstreamError.

    Without an HTTP status (an error event inside a 200 stream) the error's own code is used.
    """
    if isinstance(body, list) and body:
        body = body[0]
    err = body.get("error") if isinstance(body, dict) else None
    if not isinstance(err, dict):
        return UpstreamError(status or 502, fallback, type=error_type_for(status or 502))
    if status is None:
        code = err.get("code")
        status = code if isinstance(code, int) and 400 <= code < 600 else 502
    kind = err.get("status")
    kind = kind if isinstance(kind, str) else ""
    if _detail(err, "reason") == "API_KEY_INVALID":
        # Google answers a bad key with 400; as a 401 the next candidate gets its turn.
        status, kind = 401, "UNAUTHENTICATED"
    return UpstreamError(
        status,
        str(err.get("message") or fallback),
        type=ERROR_TYPES.get(kind) or error_type_for(status),
        code=kind.lower() or None,
        param=_field(err),
    )


def chat_completion(payload: bytes, *, model: str) -> Json:
    """A generateContent 200 body → an OpenAI `chat.completion`."""
    obj = loads_object(payload, "Gemini response")
    if "error" in obj and "candidates" not in obj:
        raise google_error(None, obj, "Gemini returned an error with status 200")
    candidates = obj.get("candidates")
    if blocked(obj):
        empty = {"role": "assistant", "content": ""}
        choices = [{"index": 0, "message": empty, "finish_reason": "content_filter"}]
    elif isinstance(candidates, list) and candidates:
        choices = [_choice(c) for c in candidates]
    else:
        raise MalformedUpstream("Gemini sent a response without candidates")
    cid = obj.get("responseId") or completion_id()
    return completion(cid, model, choices, openai_usage(obj.get("usageMetadata")))
