"""Bad chat requests get a 400 in OpenAI's error shape naming the parameter, and reach no upstream."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

HI = [{"role": "user", "content": "hi"}]

CASES = [
    ({"messages": HI}, "model"),
    ({"model": "", "messages": HI}, "model"),
    ({"model": "gpt-4o"}, "messages"),
    ({"model": "gpt-4o", "messages": []}, "messages"),
    ({"model": "gpt-4o", "messages": ["hi"]}, "messages[0]"),
    ({"model": "gpt-4o", "messages": [{"role": "wizard", "content": "hi"}]}, "messages[0].role"),
    ({"model": "gpt-4o", "messages": [{"role": "user"}]}, "messages[0].content"),
    ({"model": "gpt-4o", "messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
    ({"model": "gpt-4o", "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]},
     "messages[0].content[0].image_url.url"),
    ({"model": "gpt-4o", "messages": [{"role": "tool", "content": "42"}]}, "messages[0].tool_call_id"),
    ({"model": "gpt-4o", "messages": HI, "temperature": 3}, "temperature"),
    ({"model": "gpt-4o", "messages": HI, "temperature": "hot"}, "temperature"),
    ({"model": "gpt-4o", "messages": HI, "top_p": 1.5}, "top_p"),
    ({"model": "gpt-4o", "messages": HI, "max_tokens": 0}, "max_tokens"),
    ({"model": "gpt-4o", "messages": HI, "max_tokens": True}, "max_tokens"),
    ({"model": "gpt-4o", "messages": HI, "n": -1}, "n"),
    ({"model": "gpt-4o", "messages": HI, "stop": ["a", "b", "c", "d", "e"]}, "stop"),
    ({"model": "gpt-4o", "messages": HI, "stream": "yes"}, "stream"),
    ({"model": "gpt-4o", "messages": HI, "stream_options": {"include_usage": True}}, "stream_options"),
    ({"model": "gpt-4o", "messages": HI, "tools": [{"type": "function", "function": {}}]}, "tools[0].function.name"),
    ({"model": "gpt-4o", "messages": HI, "tool_choice": "sometimes"}, "tool_choice"),
]


@pytest.mark.parametrize(("body", "param"), CASES)
async def test_invalid_body_is_rejected_naming_the_parameter(gateway, openai_upstream, body, param) -> None:  # type: ignore[no-untyped-def]
    response = await gateway.post("/v1/chat/completions", json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == param
    assert error["type"] == "invalid_request_error"
    assert param.split(".")[0].split("[")[0] in error["message"]
    assert openai_upstream.requests == []


@pytest.mark.parametrize("raw", [b"", b"{not json", b"[1, 2]", b'"text"'])
async def test_body_that_is_not_a_json_object_is_400(gateway, raw) -> None:  # type: ignore[no-untyped-def]
    response = await gateway.post("/v1/chat/completions", content=raw)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"


async def test_oversized_body_is_413(gateway, settings) -> None:  # type: ignore[no-untyped-def]
    settings.MAX_REQUEST_BYTES = 1000
    response = await gateway.post("/v1/chat/completions", json={"model": "dummy", "messages": [{"role": "user", "content": "x" * 2000}]})
    assert response.status_code == 413


async def test_gateway_only_fields_are_not_forwarded(gateway, openai_upstream) -> None:  # type: ignore[no-untyped-def]
    prefs = [{"name": "code", "description": "writing code", "models": ["gpt-4o"]}]
    response = await gateway.post("/v1/chat/completions", json={"model": "gpt-4o", "messages": HI, "routing_preferences": prefs})
    assert response.status_code == 200
    assert "routing_preferences" not in openai_upstream.requests[-1].body


async def test_assistant_tool_call_turn_without_content_is_accepted(gateway, openai_upstream) -> None:  # type: ignore[no-untyped-def]
    call = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    messages = HI + [{"role": "assistant", "content": None, "tool_calls": [call]},
                     {"role": "tool", "tool_call_id": "call_1", "content": "42"}]
    response = await gateway.post("/v1/chat/completions", json={"model": "gpt-4o", "messages": messages})
    assert response.status_code == 200
    assert openai_upstream.requests[-1].body["messages"][1]["tool_calls"] == [call]
