"""Validate an OpenAI chat-completions body; every rejection names the parameter."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from gateway.dataplane.errors import InvalidRequest

ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
PART_TYPES = frozenset({"text", "image_url", "input_audio", "file", "refusal"})
TOOL_CHOICES = frozenset({"none", "auto", "required"})
# Fields Switchyard reads itself and never forwards upstream.
GATEWAY_FIELDS = ("routing_preferences",)
_RANGES: dict[str, tuple[float, float]] = {
    "temperature": (0.0, 2.0),
    "top_p": (0.0, 1.0),
    "presence_penalty": (-2.0, 2.0),
    "frequency_penalty": (-2.0, 2.0),
}
_POSITIVE_INTS = ("max_tokens", "max_completion_tokens", "n")


@dataclass(slots=True)
class ChatRequest:
    body: dict[str, Any]  # what adapters translate: gateway-only fields removed
    model: str
    stream: bool
    include_usage: bool
    capabilities: frozenset[str]
    extras: dict[str, Any]  # the gateway-only fields, for the routing steps that read them
    upstream_headers: dict[str, str] = field(default_factory=dict)  # e.g. traceparent


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_content(content: Any, role: str, param: str, caps: set[str]) -> None:
    if content is None or isinstance(content, str):
        return
    if not isinstance(content, list):
        raise InvalidRequest(f"'{param}' must be a string or an array of content parts", param=param)
    for i, part in enumerate(content):
        where = f"{param}[{i}]"
        if not isinstance(part, dict) or part.get("type") not in PART_TYPES:
            raise InvalidRequest(
                f"'{where}.type' must be one of {sorted(PART_TYPES)}", param=f"{where}.type"
            )
        kind = part["type"]
        if kind == "text" and not isinstance(part.get("text"), str):
            raise InvalidRequest(f"'{where}.text' must be a string", param=f"{where}.text")
        if kind == "image_url":
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, dict) else None
            if not isinstance(url, str) or not url:
                raise InvalidRequest(f"'{where}.image_url.url' is required", param=f"{where}.image_url.url")
            caps.add("vision")


def _check_message(message: Any, i: int, caps: set[str]) -> None:
    param = f"messages[{i}]"
    if not isinstance(message, dict):
        raise InvalidRequest(f"'{param}' must be an object", param=param)
    role = message.get("role")
    if role not in ROLES:
        raise InvalidRequest(f"'{param}.role' must be one of {sorted(ROLES)}", param=f"{param}.role")
    content = message.get("content")
    if content is None and role != "assistant":
        raise InvalidRequest(f"'{param}.content' is required for role '{role}'", param=f"{param}.content")
    if role == "assistant" and content is None and not message.get("tool_calls") and not message.get("function_call"):
        raise InvalidRequest(
            f"'{param}.content' is required unless 'tool_calls' is set", param=f"{param}.content"
        )
    _check_content(content, role, f"{param}.content", caps)
    if role == "tool" and not isinstance(message.get("tool_call_id"), str):
        raise InvalidRequest(f"'{param}.tool_call_id' is required for role 'tool'", param=f"{param}.tool_call_id")
    tool_calls = message.get("tool_calls")
    if tool_calls is not None:
        if not isinstance(tool_calls, list):
            raise InvalidRequest(f"'{param}.tool_calls' must be an array", param=f"{param}.tool_calls")
        for j, call in enumerate(tool_calls):
            fn = call.get("function") if isinstance(call, dict) else None
            if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
                where = f"{param}.tool_calls[{j}].function.name"
                raise InvalidRequest(f"'{where}' is required", param=where)


def _check_tools(body: dict[str, Any], caps: set[str]) -> None:
    tools = body.get("tools")
    if tools is not None and not isinstance(tools, list):
        raise InvalidRequest("'tools' must be an array", param="tools")
    for i, tool in enumerate(tools or ()):
        fn = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(tool, dict) or tool.get("type", "function") != "function":
            raise InvalidRequest(f"'tools[{i}].type' must be 'function'", param=f"tools[{i}].type")
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str) or not fn["name"]:
            raise InvalidRequest(f"'tools[{i}].function.name' is required", param=f"tools[{i}].function.name")
    if tools:
        caps.add("tools")
    choice = body.get("tool_choice")
    if choice is not None and choice not in TOOL_CHOICES:
        fn = choice.get("function") if isinstance(choice, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            raise InvalidRequest(
                "'tool_choice' must be 'none', 'auto', 'required' or a function choice", param="tool_choice"
            )


def _check_scalars(body: dict[str, Any]) -> None:
    for name, (low, high) in _RANGES.items():
        value = body.get(name)
        if value is not None and (not _is_number(value) or not low <= value <= high):
            raise InvalidRequest(f"'{name}' must be a number between {low:g} and {high:g}", param=name)
    for name in _POSITIVE_INTS:
        value = body.get(name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            raise InvalidRequest(f"'{name}' must be a positive integer", param=name)
    stop = body.get("stop")
    if stop is not None and not isinstance(stop, str):
        if not isinstance(stop, list) or len(stop) > 4 or not all(isinstance(s, str) for s in stop):
            raise InvalidRequest("'stop' must be a string or an array of up to 4 strings", param="stop")
    if "stream" in body and not isinstance(body["stream"], (bool, type(None))):
        raise InvalidRequest("'stream' must be a boolean", param="stream")
    options = body.get("stream_options")
    if options is not None:
        if not isinstance(options, dict):
            raise InvalidRequest("'stream_options' must be an object", param="stream_options")
        if not body.get("stream"):
            raise InvalidRequest("'stream_options' is only allowed when 'stream' is true", param="stream_options")


def parse_chat_request(raw: bytes) -> ChatRequest:
    """Raw body → ChatRequest, or InvalidRequest naming the offending parameter."""
    try:
        body = orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(f"Request body is not valid JSON: {exc}", code="invalid_json") from None
    if not isinstance(body, dict):
        raise InvalidRequest("Request body must be a JSON object", code="invalid_json")
    model = body.get("model")
    if not isinstance(model, str) or not model.strip():
        raise InvalidRequest("'model' is required and must be a non-empty string", param="model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise InvalidRequest("'messages' must be a non-empty array", param="messages")
    caps: set[str] = {"text"}
    for i, message in enumerate(messages):
        _check_message(message, i, caps)
    _check_tools(body, caps)
    _check_scalars(body)
    extras = {name: body.pop(name) for name in GATEWAY_FIELDS if name in body}
    stream = bool(body.get("stream"))
    options = body.get("stream_options") or {}
    return ChatRequest(
        body=body,
        model=model.strip(),
        stream=stream,
        include_usage=bool(options.get("include_usage")),
        capabilities=frozenset(caps),
        extras=extras,
    )
