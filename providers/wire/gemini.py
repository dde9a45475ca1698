"""Google Gemini wire format (Generative Language API): generateContent and its SSE stream."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote, urlsplit

import orjson

from providers.wire.base import (
    MalformedUpstream,
    StreamTranslator,
    Target,
    UnsupportedRequest,
    UpstreamError,
    UpstreamRequest,
    WireAdapter,
    completion_id,
    error_type_for,
    loads_object,
    now,
    usage,
    usage_chunk,
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
TOOL_MODES = {"auto": "AUTO", "none": "NONE", "required": "ANY"}
# Gemini's Schema is an OpenAPI subset: any other JSON-schema keyword is a 400.
SCHEMA_KEYS = frozenset({
    "type", "format", "title", "description", "nullable", "enum", "items", "properties",
    "required", "minItems", "maxItems", "minProperties", "maxProperties", "minLength",
    "maxLength", "pattern", "minimum", "maximum", "example", "default", "propertyOrdering",
})
SCHEMA_DEPTH = 32
MIME_TYPES = {
    "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif",
    "webp": "image/webp", "heic": "image/heic", "heif": "image/heif", "pdf": "application/pdf",
}
GENERATION_FIELDS = (
    ("temperature", "temperature"), ("top_p", "topP"), ("top_k", "topK"),
    ("n", "candidateCount"), ("seed", "seed"), ("presence_penalty", "presencePenalty"),
    ("frequency_penalty", "frequencyPenalty"),
)
Json = dict[str, Any]


# --- request ---------------------------------------------------------------
def _model_path(model: str) -> str:
    """`gemini-x` or `models/gemini-x` (or `tunedModels/x`) → one path, never `models/models/`."""
    if not model.startswith(("models/", "tunedModels/")):
        model = "models/" + model
    return quote(model, safe="/")


def _inline(url: str, param: str) -> Json:
    head, sep, data = url.partition(",")
    mime, _, encoding = head.removeprefix("data:").partition(";")
    if not sep or not mime or encoding != "base64":
        raise UnsupportedRequest(param, "Gemini accepts only base64 data: URLs with a media type")
    return {"inlineData": {"mimeType": mime, "data": data}}


def _media(url: str, param: str) -> Json:
    if url.startswith("data:"):
        return _inline(url, param)
    if url.startswith(("http://", "https://")):
        ext = urlsplit(url).path.rpartition(".")[2].lower()
        return {"fileData": {"mimeType": MIME_TYPES.get(ext, "image/jpeg"), "fileUri": url}}
    raise UnsupportedRequest(param, "Gemini accepts only data: and http(s) URLs")


def _part(part: Json, param: str) -> Json | None:
    kind = part.get("type")
    if kind in ("text", "refusal"):
        text = part.get(kind)
        return {"text": text} if text else None  # Gemini rejects empty text parts
    if kind == "image_url":
        return _media(part["image_url"]["url"], f"{param}.image_url.url")
    if kind == "input_audio":
        audio = part.get("input_audio") or {}
        mime = f"audio/{audio.get('format', 'wav')}"
        return {"inlineData": {"mimeType": mime, "data": audio.get("data", "")}}
    if kind == "file" and isinstance((part.get("file") or {}).get("file_data"), str):
        return _inline(part["file"]["file_data"], f"{param}.file.file_data")
    raise UnsupportedRequest(param, f"Gemini cannot take a '{kind}' content part here")


def _parts(content: Any, param: str) -> list[Json]:
    if isinstance(content, str):
        return [{"text": content}] if content else []
    parts = (_part(p, f"{param}[{i}]") for i, p in enumerate(content or ()))
    return [p for p in parts if p is not None]


def _call_part(fn: Json, extra: Any, param: str) -> Json:
    raw = fn.get("arguments")
    try:
        args = raw if isinstance(raw, dict) else orjson.loads(raw or "{}")
    except orjson.JSONDecodeError:
        args = None
    if not isinstance(args, dict):
        raise UnsupportedRequest(f"{param}.arguments", "Gemini needs arguments as a JSON object")
    part: Json = {"functionCall": {"name": fn["name"], "args": args}}
    # Thinking models want their signature back; it travels as Google's OpenAI-compat field.
    google = extra.get("google") if isinstance(extra, dict) else None
    signature = google.get("thought_signature") if isinstance(google, dict) else None
    if isinstance(signature, str):
        part["thoughtSignature"] = signature
    return part


def _assistant_parts(message: Json, names: dict[str, str], param: str) -> list[Json]:
    parts = _parts(message.get("content"), f"{param}.content")
    for j, call in enumerate(message.get("tool_calls") or ()):
        names[str(call.get("id"))] = call["function"]["name"]
        where = f"{param}.tool_calls[{j}].function"
        parts.append(_call_part(call["function"], call.get("extra_content"), where))
    if isinstance(message.get("function_call"), dict):
        parts.append(_call_part(message["function_call"], None, f"{param}.function_call"))
    return parts


def _function_response(message: Json, names: dict[str, str], param: str) -> Json:
    name = names.get(str(message.get("tool_call_id"))) or message.get("name")
    if not isinstance(name, str) or not name:
        raise UnsupportedRequest(
            f"{param}.tool_call_id",
            "Gemini needs the function's name: no earlier tool call has this id",
        )
    content = message.get("content")
    if not isinstance(content, str):
        content = "".join(p.get("text", "") for p in content or () if isinstance(p, dict))
    try:
        response = orjson.loads(content)
    except orjson.JSONDecodeError:
        response = None
    if not isinstance(response, dict):
        response = {"content": content}
    return {"functionResponse": {"name": name, "response": response}}


def _contents(messages: list[Json]) -> tuple[list[Json], list[Json]]:
    """OpenAI messages → (system instruction parts, alternating Gemini turns)."""
    system: list[Json] = []
    contents: list[Json] = []
    names: dict[str, str] = {}  # tool_call_id → function name, for the tool results that follow
    for i, message in enumerate(messages):
        role, param = message["role"], f"messages[{i}]"
        if role in ("system", "developer"):
            system += _parts(message.get("content"), f"{param}.content")
            continue
        if role == "assistant":
            turn, parts = "model", _assistant_parts(message, names, param)
        elif role in ("tool", "function"):
            turn, parts = "user", [_function_response(message, names, param)]
        else:
            turn, parts = "user", _parts(message.get("content"), f"{param}.content")
        if not parts:
            continue
        if contents and contents[-1]["role"] == turn:
            contents[-1]["parts"] += parts
        else:
            contents.append({"role": turn, "parts": parts})
    return system, contents


def _union(options: list[Any]) -> Json:
    """A JSON-schema union, maybe with a `null` option → Gemini's `nullable` (+ `anyOf`)."""
    rest = [o for o in options if o != {"type": "null"}]
    out: Json = {"nullable": True} if len(rest) < len(options) else {}
    if len(rest) == 1 and isinstance(rest[0], dict):
        out.update(rest[0])
    elif rest:
        out["anyOf"] = rest
    return out


def _schema(node: Any, defs: Json, depth: int = 0) -> Json:
    """A JSON schema → Gemini's Schema: local `$ref`s inlined, keywords it rejects dropped."""
    if not isinstance(node, dict):
        return {}
    if depth > SCHEMA_DEPTH:
        raise UnsupportedRequest("tools", "Gemini cannot take a schema this deep (recursive $ref?)")
    ref = node.get("$ref")
    if isinstance(ref, str):
        target = defs.get(ref.rpartition("/")[2]) if ref.startswith("#/") else None
        if not isinstance(target, dict):
            raise UnsupportedRequest("tools", f"Gemini cannot resolve the schema reference '{ref}'")
        merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        return _schema(merged, defs, depth + 1)
    out: Json = {}
    for key, value in node.items():
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: _schema(sub, defs, depth + 1) for name, sub in value.items()}
        elif key == "items":
            out[key] = _schema(value, defs, depth + 1)
        elif key in ("anyOf", "oneOf") and isinstance(value, list):
            out = {**_union([_schema(sub, defs, depth + 1) for sub in value]), **out}
        elif key == "type" and isinstance(value, list):
            out = {**_union([{"type": t} for t in value]), **out}
        elif key == "const":
            out["enum"] = [value]
        elif key in SCHEMA_KEYS:
            out[key] = value
    return out


def _clean_schema(schema: Json) -> Json:
    defs = {**(schema.get("definitions") or {}), **(schema.get("$defs") or {})}
    return _schema(schema, defs)


def _declaration(fn: Json) -> Json:
    declaration: Json = {"name": fn["name"]}
    if fn.get("description"):
        declaration["description"] = fn["description"]
    params = fn.get("parameters")
    # Gemini rejects an OBJECT without properties, so a function with no arguments sends none.
    if isinstance(params, dict) and (params.get("properties") or params.get("type") != "object"):
        declaration["parameters"] = _clean_schema(params)
    return declaration


def _tools(body: Json) -> Json:
    tools = body.get("tools")
    if not tools:
        return {}
    out: Json = {"tools": [{"functionDeclarations": [_declaration(t["function"]) for t in tools]}]}
    choice = body.get("tool_choice")
    if isinstance(choice, str):
        out["toolConfig"] = {"functionCallingConfig": {"mode": TOOL_MODES[choice]}}
    elif isinstance(choice, dict):
        only = [choice["function"]["name"]]
        out["toolConfig"] = {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": only}}
    return out


def _generation_config(body: Json) -> Json:
    config = {to: body[ours] for ours, to in GENERATION_FIELDS if body.get(ours) is not None}
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    if limit:
        config["maxOutputTokens"] = limit
    stop = body.get("stop")
    if stop:
        config["stopSequences"] = [stop] if isinstance(stop, str) else stop
    fmt = body.get("response_format")
    fmt = fmt if isinstance(fmt, dict) else {}
    if fmt.get("type") in ("json_object", "json_schema"):
        config["responseMimeType"] = "application/json"
        spec = fmt.get("json_schema")
        if isinstance(spec, dict) and isinstance(spec.get("schema"), dict):
            config["responseSchema"] = _clean_schema(spec["schema"])
    return config


# --- response --------------------------------------------------------------
def _tool_call(part: Json) -> Json:
    fn = part["functionCall"]
    if not isinstance(fn.get("name"), str):
        raise MalformedUpstream("Gemini sent a function call without a name")
    call: Json = {
        "id": fn.get("id") or "call_" + uuid.uuid4().hex[:24],
        "type": "function",
        "function": {"name": fn["name"], "arguments": orjson.dumps(fn.get("args") or {}).decode()},
    }
    if isinstance(part.get("thoughtSignature"), str):
        call["extra_content"] = {"google": {"thought_signature": part["thoughtSignature"]}}
    return call


def _read(candidate: Any) -> tuple[int, str, list[Json], str | None]:
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


def _finish_reason(reason: str | None, has_calls: bool) -> str:
    if reason in FINISH_REASONS:
        return FINISH_REASONS[reason]
    return "tool_calls" if has_calls else "stop"


def _usage(meta: Any) -> Json | None:
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


def _blocked(obj: Json) -> bool:
    """Gemini refused the prompt itself: no candidates, a promptFeedback.blockReason."""
    feedback = obj.get("promptFeedback")
    blocked = isinstance(feedback, dict) and bool(feedback.get("blockReason"))
    return blocked and not obj.get("candidates")


def _choice(candidate: Any) -> Json:
    index, text, calls, reason = _read(candidate)
    message: Json = {"role": "assistant", "content": text or (None if calls else "")}
    if calls:
        message["tool_calls"] = calls
    finish = _finish_reason(reason, bool(calls))
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


# --- stream ----------------------------------------------------------------
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

    def _chunk(self, index: int, delta: Json, finish: str | None = None) -> bytes:
        """base.chunk, but with the candidate's index: Gemini may stream several candidates."""
        choice = {"index": index, "delta": delta, "finish_reason": finish}
        return orjson.dumps({
            "id": self.cid, "object": "chat.completion.chunk", "created": self.created,
            "model": self.model, "choices": [choice],
        })

    def _candidate(self, candidate: Any) -> list[bytes]:
        index, text, calls, reason = _read(candidate)
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
            out.append(self._chunk(index, {}, _finish_reason(reason, index in self.calls)))
        return out

    def feed(self, event: str, data: str) -> list[bytes]:
        obj = loads_object(data, "Gemini stream event")
        if "error" in obj:
            raise google_error(None, obj, "Gemini reported an error mid-stream")
        if not self.started and isinstance(obj.get("responseId"), str):
            self.cid = obj["responseId"]
        self.usage = _usage(obj.get("usageMetadata")) or self.usage
        if _blocked(obj) and 0 not in self.started:
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


class GeminiAdapter(WireAdapter):
    wire = "gemini"

    def chat_request(self, target: Target, body: Json, *, stream: bool) -> UpstreamRequest:
        system, contents = _contents(body["messages"])
        if not contents:
            raise UnsupportedRequest("messages", "Gemini needs a user or assistant message")
        payload: Json = {"contents": contents, **_tools(body)}
        if system:
            payload["systemInstruction"] = {"parts": system}
        if config := _generation_config(body):
            payload["generationConfig"] = config
        method = "streamGenerateContent?alt=sse" if stream else "generateContent"
        accept = "text/event-stream" if stream else "application/json"
        headers = {"content-type": "application/json", "accept": accept}
        if target.api_key:
            headers["x-goog-api-key"] = target.api_key  # never `?key=`: URLs end up in logs
        url = f"{target.api_root}/{_model_path(target.model)}:{method}"
        return UpstreamRequest(url, headers, orjson.dumps(payload))

    def chat_response(self, payload: bytes, *, model: str) -> Json:
        obj = loads_object(payload, "Gemini response")
        if "error" in obj and "candidates" not in obj:
            raise google_error(None, obj, "Gemini returned an error with status 200")
        candidates = obj.get("candidates")
        if _blocked(obj):
            empty = {"role": "assistant", "content": ""}
            choices = [{"index": 0, "message": empty, "finish_reason": "content_filter"}]
        elif isinstance(candidates, list) and candidates:
            choices = [_choice(c) for c in candidates]
        else:
            raise MalformedUpstream("Gemini sent a response without candidates")
        answer: Json = {
            "id": obj.get("responseId") or completion_id(),
            "object": "chat.completion",
            "created": now(),
            "model": model,
            "choices": choices,
        }
        if (used := _usage(obj.get("usageMetadata"))) is not None:
            answer["usage"] = used
        return answer

    def error(self, status: int, payload: bytes) -> UpstreamError:
        try:
            body = orjson.loads(payload)
        except orjson.JSONDecodeError:
            text = payload.decode("utf-8", "replace").strip()[:500]
            message = text or f"Gemini returned HTTP {status}"
            return UpstreamError(status, message, type=error_type_for(status))
        return google_error(status, body, f"Gemini returned HTTP {status}")

    def stream(self, *, model: str, include_usage: bool) -> StreamTranslator:
        return GeminiStream(model, include_usage)
