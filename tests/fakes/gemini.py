"""Fake Gemini upstream: /v1beta/models/{model}:generateContent and :streamGenerateContent."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from tests.fakes.openai import sse, words
from tests.fakes.server import FakeUpstream, Rejected, Wire

STATUSES = {
    400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED", 499: "CANCELLED", 500: "INTERNAL", 503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
METHODS = frozenset({"generateContent", "streamGenerateContent"})
REQUEST_FIELDS = frozenset({
    "contents", "tools", "toolConfig", "safetySettings", "systemInstruction", "generationConfig",
    "cachedContent",
})
GENERATION_FIELDS = frozenset({
    "stopSequences", "responseMimeType", "responseSchema", "responseJsonSchema", "candidateCount",
    "maxOutputTokens", "temperature", "topP", "topK", "seed", "presencePenalty", "frequencyPenalty",
    "responseLogprobs", "logprobs", "thinkingConfig", "responseModalities", "mediaResolution",
})
PART_DATA = frozenset({
    "text", "inlineData", "fileData", "functionCall", "functionResponse", "executableCode",
    "codeExecutionResult",
})
PART_FIELDS = PART_DATA | {"thought", "thoughtSignature", "videoMetadata"}
UNREGISTERED = (
    "Method doesn't allow unregistered callers (callers without established identity). "
    "Please use API Key or other form of API consumer identity to call this API."
)


def google_error(status: int, message: str) -> dict[str, Any]:
    kind = STATUSES.get(status, "UNKNOWN")
    return {"error": {"code": status, "message": message, "status": kind}}


def _unknown(name: str, where: str) -> Rejected:
    message = f"Invalid JSON payload received. Unknown name \"{name}\" at '{where}': "
    return Rejected(400, message + "Cannot find field.")


def _check_schema(node: Any, where: str) -> None:
    """Gemini's Schema is an OpenAPI subset: JSON-schema extras are unknown fields."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key.startswith("$") or key in ("additionalProperties", "oneOf", "allOf", "const"):
                raise _unknown(key, where)
            if key == "properties" and isinstance(value, dict):
                for name, sub in value.items():
                    _check_schema(sub, f"{where}.properties[{name}]")
            elif key in ("items", "anyOf"):
                _check_schema(value, f"{where}.{key}")
    elif isinstance(node, list):
        for item in node:
            _check_schema(item, where)


def _check_parts(parts: Any, where: str) -> None:
    if not isinstance(parts, list) or not parts:
        raise Rejected(400, f"* GenerateContentRequest.{where}.parts: must not be empty.")
    for i, part in enumerate(parts):
        data = [k for k in part if k in PART_DATA] if isinstance(part, dict) else []
        if len(data) != 1:
            message = "required oneof field 'data' must have one initialized field"
            raise Rejected(400, f"* GenerateContentRequest.{where}.parts[{i}].data: {message}")
        for key in part:
            if key not in PART_FIELDS:
                raise _unknown(key, f"{where}.parts[{i}]")
        if part.get("text") == "":
            raise Rejected(400, "Unable to submit request because it has an empty text parameter.")
        for kind in ("functionCall", "functionResponse"):
            if kind in part and not (part[kind] or {}).get("name"):
                field = f"{where}.parts[{i}].{kind}.name"
                raise Rejected(400, f"* GenerateContentRequest.{field}: Name cannot be empty.")


def _check_body(body: Any) -> None:
    if not isinstance(body, dict):
        raise Rejected(400, "Invalid JSON payload received.")
    for key in body:
        if key not in REQUEST_FIELDS:
            raise _unknown(key, "")
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        raise Rejected(400, "* GenerateContentRequest.contents: contents is not specified")
    for i, content in enumerate(contents):
        if not isinstance(content, dict) or content.get("role") not in ("user", "model"):
            raise Rejected(400, "Please use a valid role: user, model.")
        _check_parts(content.get("parts"), f"contents[{i}]")
    if "systemInstruction" in body:
        _check_parts((body["systemInstruction"] or {}).get("parts"), "system_instruction")
    for key in body.get("generationConfig") or {}:
        if key not in GENERATION_FIELDS:
            raise _unknown(key, "generation_config")
    schema = (body.get("generationConfig") or {}).get("responseSchema")
    _check_schema(schema, "generation_config.response_schema")
    for i, tool in enumerate(body.get("tools") or ()):
        for j, fn in enumerate(tool.get("functionDeclarations") or ()):
            _check_schema(fn.get("parameters"), f"tools[{i}].function_declarations[{j}].parameters")


def _check_request(request: web.Request, body: Any) -> None:
    """Raises Rejected with what the real API would answer instead of serving the request."""
    model, _, method = _model_method(request)
    if not model or method not in METHODS:
        raise Rejected(404, f"Method not found: {request.path}")
    if not request.headers.get("x-goog-api-key"):
        raise Rejected(403, UNREGISTERED)
    if method == "streamGenerateContent" and request.query.get("alt") != "sse":
        # The real API would stream one JSON array; this fake only speaks SSE.
        raise Rejected(400, "this fake serves streamGenerateContent only with alt=sse")
    _check_body(body)


def _model_method(request: web.Request) -> tuple[str, str, str]:
    """The path's last segment, `<model>:<method>`, split at its last colon."""
    return request.match_info["tail"].rpartition(":")


class GeminiWire(Wire):
    routes = [("POST", "/v1beta/models/{tail}")]  # `{tail}` is `<model>:<method>`, colon and all
    cut_after = 0  # every Gemini event carries text, so the first one already has content

    def check(self, request: web.Request, body: Any) -> tuple[int, Any] | None:
        try:
            _check_request(request, body)
        except Rejected as exc:
            return exc.status, self.error_body(exc.status, exc.message)
        return None

    def is_stream(self, request: web.Request, body: Any) -> bool:
        return _model_method(request)[2] == "streamGenerateContent"

    def _response(self, request: web.Request, fake: FakeUpstream, parts: list[dict[str, Any]],
                  finish: str | None) -> dict[str, Any]:
        prompt, completion = fake.usage
        candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": 0}
        meta: dict[str, Any] = {"promptTokenCount": prompt, "totalTokenCount": prompt}
        if finish:
            candidate["finishReason"] = finish
            meta = {"promptTokenCount": prompt, "candidatesTokenCount": completion,
                    "totalTokenCount": prompt + completion}
        model = _model_method(request)[0]
        return {
            "candidates": [candidate], "usageMetadata": meta, "modelVersion": model,
            "responseId": "fake-gemini-1",
        }

    def _call_part(self, fake: FakeUpstream) -> dict[str, Any]:
        call = fake.tool_call
        assert call is not None
        return {"functionCall": {"name": call["name"], "args": call["arguments"]}}

    def completion(self, body: Any, fake: FakeUpstream, request: web.Request) -> Any:
        parts = [self._call_part(fake)] if fake.tool_call else [{"text": fake.reply}]
        return self._response(request, fake, parts, "STOP")

    def stream_events(self, body: Any, fake: FakeUpstream, request: web.Request) -> list[bytes]:
        if fake.tool_call:
            return [sse(self._response(request, fake, [self._call_part(fake)], "STOP"))]
        pieces = words(fake.reply)
        events = [sse(self._response(request, fake, [{"text": p}], None)) for p in pieces[:-1]]
        return events + [sse(self._response(request, fake, [{"text": pieces[-1]}], "STOP"))]

    def error_body(self, status: int, message: str) -> Any:
        return google_error(status, message)

    def error_event(self, message: str) -> bytes:
        return sse(google_error(503, message))


def fake_gemini() -> FakeUpstream:
    return FakeUpstream(GeminiWire()).start()
