"""Chat completions through the Anthropic Messages wire format, in process, against the fake."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

from tests.fakes.server import FakeUpstream

pytestmark = pytest.mark.django_db(transaction=True)

MODEL = "claude-3-5-haiku-latest"
HI = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]
WEATHER = {"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}
SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}}
TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": SCHEMA}}]
USAGE = {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}
REPLY = "Hello from the fake upstream"


async def chat(gateway: httpx.AsyncClient, **extra: Any) -> httpx.Response:
    return await gateway.post("/v1/chat/completions", json={"model": MODEL, "messages": HI, **extra})


def events(response: httpx.Response) -> list[str]:
    return [block for block in response.text.split("\n\n") if block]


def chunks(response: httpx.Response) -> list[dict[str, Any]]:
    return [orjson.loads(block[6:]) for block in events(response) if block != "data: [DONE]"]


def content(response: httpx.Response) -> str:
    deltas = [c["choices"][0]["delta"] for c in chunks(response) if c.get("choices")]
    return "".join(delta.get("content") or "" for delta in deltas)


async def test_answer_comes_back_in_openai_shape(gateway, anthropic_upstream):
    response = await chat(gateway)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["object"] == "chat.completion"
    assert body["choices"][0]["message"] == {"role": "assistant", "content": REPLY}
    assert body["choices"][0]["finish_reason"] == "stop"
    assert body["usage"] == USAGE
    assert response.headers["x-switchyard-provider"] == "anthropic"


async def test_upstream_receives_a_messages_request_with_key(gateway, anthropic_upstream, settings):
    await chat(gateway, temperature=1.5, presence_penalty=0.3)
    seen = anthropic_upstream.requests[-1]
    assert seen.path == "/v1/messages"
    assert seen.headers["x-api-key"] == "sk-test-anthropic"
    assert seen.body["system"] == "Be brief."
    assert seen.body["max_tokens"] == settings.ANTHROPIC_DEFAULT_MAX_TOKENS
    assert seen.body["temperature"] == 1


async def test_stream_reassembles_to_the_reply_and_ends_with_done(gateway, anthropic_upstream):
    response = await chat(gateway, stream=True)
    assert response.status_code == 200
    assert events(response)[-1] == "data: [DONE]"
    assert content(response) == REPLY
    assert chunks(response)[-1]["choices"][0]["finish_reason"] == "stop"


async def test_stream_with_include_usage_reports_tokens(gateway, anthropic_upstream):
    response = await chat(gateway, stream=True, stream_options={"include_usage": True})
    assert chunks(response)[-1]["usage"] == USAGE


async def test_tool_call_answer_has_openai_tool_calls(gateway, anthropic_upstream: FakeUpstream):
    anthropic_upstream.tool_call = WEATHER
    response = await chat(gateway, tools=TOOLS)
    choice = response.json()["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    call = choice["message"]["tool_calls"][0]
    assert call["function"]["name"] == "get_weather"
    assert orjson.loads(call["function"]["arguments"]) == WEATHER["arguments"]
    assert anthropic_upstream.requests[-1].body["tools"][0]["input_schema"]["properties"]


async def test_streamed_tool_call_arguments_reassemble(gateway, anthropic_upstream: FakeUpstream):
    anthropic_upstream.tool_call = WEATHER
    response = await chat(gateway, tools=TOOLS, stream=True)
    calls = [c for chunk in chunks(response) for c in chunk["choices"][0]["delta"].get("tool_calls", [])]
    assert calls[0]["function"]["name"] == "get_weather"
    assert {c["index"] for c in calls} == {0}
    assert orjson.loads("".join(c["function"]["arguments"] for c in calls)) == WEATHER["arguments"]
    assert chunks(response)[-1]["choices"][0]["finish_reason"] == "tool_calls"


async def test_tool_results_are_sent_back_as_a_user_turn(gateway, anthropic_upstream: FakeUpstream):
    function = {"name": "get_weather", "arguments": '{"city":"Paris"}'}
    call = {"id": "toolu_01", "type": "function", "function": function}
    history = [{"role": "assistant", "content": None, "tool_calls": [call]},
               {"role": "tool", "tool_call_id": "toolu_01", "content": "18°C"}]
    response = await chat(gateway, messages=[*HI, *history], tools=TOOLS)
    assert response.status_code == 200, response.text
    last = anthropic_upstream.requests[-1].body["messages"][-1]
    result = {"type": "tool_result", "tool_use_id": "toolu_01", "content": "18°C"}
    assert last == {"role": "user", "content": [result]}


async def test_upstream_429_is_relayed_as_rate_limit(gateway, anthropic_upstream: FakeUpstream):
    anthropic_upstream.fail_next("429")
    response = await chat(gateway)
    assert response.status_code == 429
    assert response.json()["error"]["type"] == "rate_limit_error"


async def test_upstream_529_overloaded_keeps_its_status(gateway, anthropic_upstream: FakeUpstream):
    anthropic_upstream.fail_next("529")
    response = await chat(gateway)
    assert response.status_code == 529
    assert response.json()["error"]["message"] == "fake upstream error 529"


async def test_stream_error_before_content_is_a_clean_error(gateway, anthropic_upstream: FakeUpstream):
    anthropic_upstream.fail_next("stream_error_first")
    response = await chat(gateway, stream=True)
    assert response.status_code == 529
    assert response.json()["error"]["message"] == "overloaded before first token"


async def test_stream_cut_after_content_ends_with_error_then_done(gateway, anthropic_upstream):
    anthropic_upstream.fail_next("stream_cut")
    response = await chat(gateway, stream=True)
    assert response.status_code == 200
    assert content(response).startswith("Hello")
    assert "error" in orjson.loads(events(response)[-2][6:])
    assert events(response)[-1] == "data: [DONE]"


async def test_stream_error_event_mid_answer_is_forwarded(gateway, anthropic_upstream: FakeUpstream):
    anthropic_upstream.fail_next("stream_error_mid")
    response = await chat(gateway, stream=True)
    error = orjson.loads(events(response)[-2][6:])["error"]
    assert error["message"] == "upstream failed mid-stream"
    assert events(response)[-1] == "data: [DONE]"


async def test_malformed_answer_is_a_502(gateway, anthropic_upstream: FakeUpstream):
    anthropic_upstream.fail_next("malformed")
    response = await chat(gateway)
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "bad_upstream_response"


async def test_more_than_one_choice_is_rejected_naming_n(gateway, anthropic_upstream: FakeUpstream):
    response = await chat(gateway, n=2)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "n"
    assert anthropic_upstream.requests == []


@pytest.mark.parametrize("change", [
    {"headers": {"x-api-key": ""}},
    {"headers": {"anthropic-version": ""}},
    {"body": {"max_tokens": None}},
    {"body": {"messages": HI}},
    {"body": {"presence_penalty": 0.5}},
    {"body": {"tools": TOOLS}},
])
async def test_fake_upstream_refuses_what_anthropic_refuses(anthropic_upstream, change: dict[str, Any]):
    headers = {"x-api-key": "sk-test", "anthropic-version": "2023-06-01", **change.get("headers", {})}
    body = {"model": MODEL, "max_tokens": 64, "messages": HI[1:], **change.get("body", {})}
    body = {k: v for k, v in body.items() if v is not None}
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{anthropic_upstream.url}/v1/messages", json=body, headers=headers)
    assert response.status_code in (400, 401)
    assert response.json()["type"] == "error"
