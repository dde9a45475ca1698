"""OpenAI chat request → Anthropic Messages API body."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from providers.wire.base import UnsupportedRequest, data_url, json_object

Block = dict[str, Any]


def _image(url: str, param: str) -> Block:
    if url.startswith("data:"):
        parsed = data_url(url)
        if parsed is None or "base64" not in parsed[1]:
            message = f"'{param}' must be a base64 data URL (data:<type>;base64,...)"
            raise UnsupportedRequest(param, message)
        media_type, _, data = parsed
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
    value = {} if raw is None or raw == "" else json_object(raw)
    if value is None:
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
            problem = "Use 'tool' messages instead of 'function' messages"
            raise UnsupportedRequest(f"{param}.role", problem)
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
