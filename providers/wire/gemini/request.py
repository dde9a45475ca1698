"""OpenAI chat request → Gemini generateContent body and model path."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

from providers.wire.base import UnsupportedRequest, data_url, json_object

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


def model_path(model: str) -> str:
    """`gemini-x` or `models/gemini-x` (or `tunedModels/x`) → one path, never `models/models/`."""
    if not model.startswith(("models/", "tunedModels/")):
        model = "models/" + model
    return quote(model, safe="/")


def _inline(url: str, param: str) -> Json:
    parsed = data_url(url)
    if parsed is None or parsed[1] != ["base64"]:
        raise UnsupportedRequest(param, "Gemini accepts only base64 data: URLs with a media type")
    mime, _, data = parsed
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
    args = json_object(fn.get("arguments") or "{}")
    if args is None:
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
    response = json_object(content)
    if response is None:
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


def generate_body(body: Json) -> Json:
    """An OpenAI chat body → a generateContent body (the same for its streaming variant)."""
    system, contents = _contents(body["messages"])
    if not contents:
        raise UnsupportedRequest("messages", "Gemini needs a user or assistant message")
    payload: Json = {"contents": contents, **_tools(body)}
    if system:
        payload["systemInstruction"] = {"parts": system}
    if config := _generation_config(body):
        payload["generationConfig"] = config
    return payload
