"""Chat completions through the Gemini wire format, in process, against the strict fake."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

from tests.fakes.server import FakeUpstream

pytestmark = pytest.mark.django_db(transaction=True)

MODEL = "gemini-2.0-flash"
HI = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]
WEATHER = {"name": "get_weather", "arguments": {"city": "Oslo"}}
TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "additionalProperties": False, "properties": {"city": {"type": "string"}}}}}]


async def chat(gateway: httpx.AsyncClient, model: str = MODEL, **extra: Any) -> httpx.Response:
    body = {"model": model, "messages": HI, **extra}
    return await gateway.post("/v1/chat/completions", json=body)


def events(response: httpx.Response) -> list[str]:
    return [block for block in response.text.split("\n\n") if block]


def chunks(response: httpx.Response) -> list[dict[str, Any]]:
    return [orjson.loads(block[6:]) for block in events(response) if block != "data: [DONE]"]


def content(response: httpx.Response) -> str:
    deltas = [c["choices"][0]["delta"] for c in chunks(response) if c.get("choices")]
    return "".join(d.get("content") or "" for d in deltas)


async def test_answer_comes_back_in_openai_shape(
    gateway: httpx.AsyncClient, gemini_upstream: FakeUpstream
) -> None:
    response = await chat(gateway)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["object"] == "chat.completion"
    assert body["choices"][0]["message"]["content"] == "Hello from the fake upstream"
    assert body["choices"][0]["finish_reason"] == "stop"
    assert body["usage"] == {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}
    assert response.headers["x-switchyard-provider"] == "google"


async def test_upstream_receives_a_generate_content_request(
    gateway: httpx.AsyncClient, gemini_upstream: FakeUpstream
) -> None:
    await chat(gateway, max_tokens=50)
    seen = gemini_upstream.requests[-1]
    assert seen.path == "/v1beta/models/gemini-2.0-flash:generateContent"
    assert seen.body["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
    assert seen.body["contents"] == [{"role": "user", "parts": [{"text": "hi"}]}]
    assert seen.body["generationConfig"] == {"maxOutputTokens": 50}


async def test_google_slash_prefix_is_stripped_from_the_model(
    gateway: httpx.AsyncClient, gemini_upstream: FakeUpstream
) -> None:
    response = await chat(gateway, model="google/gemini-2.0-flash")
    assert response.status_code == 200, response.text
    assert gemini_upstream.requests[-1].path == "/v1beta/models/gemini-2.0-flash:generateContent"


async def test_api_key_travels_in_a_header_never_in_the_url(
    gateway: httpx.AsyncClient, gemini_upstream: FakeUpstream
) -> None:
    await chat(gateway)
    await chat(gateway, stream=True)
    for seen in gemini_upstream.requests:
        assert seen.headers["x-goog-api-key"] == "test-google-key"
        assert "key" not in seen.query
        assert "test-google-key" not in seen.path


async def test_stream_reassembles_to_the_reply_and_ends_with_done(
    gateway: httpx.AsyncClient, gemini_upstream: FakeUpstream
) -> None:
    gemini_upstream.reply = "Streaming hello from Gemini in pieces"
    response = await chat(gateway, stream=True)
    assert response.status_code == 200
    assert content(response) == "Streaming hello from Gemini in pieces"
    assert events(response)[-1] == "data: [DONE]"
    assert gemini_upstream.requests[-1].query == {"alt": "sse"}


async def test_stream_finishes_with_stop_then_usage_when_asked(
    gateway: httpx.AsyncClient, gemini_upstream: FakeUpstream
) -> None:
    response = await chat(gateway, stream=True, stream_options={"include_usage": True})
    received = chunks(response)
    assert [c["choices"][0]["finish_reason"] for c in received if c["choices"]][-1] == "stop"
    assert received[-1]["usage"]["total_tokens"] == 18


async def test_tool_call_comes_back_as_openai_tool_calls(
    gateway: httpx.AsyncClient, gemini_upstream: FakeUpstream
) -> None:
    gemini_upstream.tool_call = WEATHER
    response = await chat(gateway, tools=TOOLS, tool_choice="required")
    choice = response.json()["choices"][0]
    call = choice["message"]["tool_calls"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert call["function"]["name"] == "get_weather"
    assert orjson.loads(call["function"]["arguments"]) == {"city": "Oslo"}
    config = gemini_upstream.requests[-1].body["toolConfig"]
    assert config == {"functionCallingConfig": {"mode": "ANY"}}


async def test_streamed_tool_call_arrives_whole_with_tool_calls_finish(
    gateway: httpx.AsyncClient, gemini_upstream: FakeUpstream
) -> None:
    gemini_upstream.tool_call = WEATHER
    response = await chat(gateway, tools=TOOLS, stream=True)
    received = chunks(response)
    calls = [call for c in received for call in c["choices"][0]["delta"].get("tool_calls") or ()]
    assert [(c["index"], c["function"]["name"]) for c in calls] == [(0, "get_weather")]
    assert orjson.loads(calls[0]["function"]["arguments"]) == {"city": "Oslo"}
    assert received[-1]["choices"][0]["finish_reason"] == "tool_calls"


async def test_tool_result_reaches_gemini_as_a_named_function_response(
    gateway: httpx.AsyncClient, gemini_upstream: FakeUpstream
) -> None:
    asked = {"name": "get_weather", "arguments": ""}
    call = {"id": "call_7", "type": "function", "function": asked}
    messages = [*HI, {"role": "assistant", "content": None, "tool_calls": [call]},
                {"role": "tool", "tool_call_id": "call_7", "content": '{"temp": 21}'}]
    body = {"model": MODEL, "messages": messages, "tools": TOOLS}
    response = await gateway.post("/v1/chat/completions", json=body)
    assert response.status_code == 200, response.text
    turn = gemini_upstream.requests[-1].body["contents"][-1]
    result = {"functionResponse": {"name": "get_weather", "response": {"temp": 21}}}
    assert turn == {"role": "user", "parts": [result]}


async def test_upstream_429_is_relayed_as_a_rate_limit_error(
    gateway: httpx.AsyncClient, gemini_upstream: FakeUpstream
) -> None:
    gemini_upstream.fail_next("429")
    response = await chat(gateway)
    assert response.status_code == 429
    assert response.json()["error"]["type"] == "rate_limit_error"
    assert response.json()["error"]["message"] == "fake upstream error 429"


async def test_stream_error_before_first_token_is_a_clean_error(
    gateway: httpx.AsyncClient, gemini_upstream: FakeUpstream
) -> None:
    gemini_upstream.fail_next("stream_error_first")
    response = await chat(gateway, stream=True)
    assert response.status_code == 503
    assert response.json()["error"]["message"] == "overloaded before first token"


async def test_stream_cut_after_content_ends_with_an_error_then_done(
    gateway: httpx.AsyncClient, gemini_upstream: FakeUpstream
) -> None:
    gemini_upstream.fail_next("stream_cut")
    response = await chat(gateway, stream=True)
    blocks = events(response)
    assert content(response).startswith("Hello")
    assert "error" in orjson.loads(blocks[-2][6:])
    assert blocks[-1] == "data: [DONE]"


async def test_malformed_answer_is_a_502(
    gateway: httpx.AsyncClient, gemini_upstream: FakeUpstream
) -> None:
    gemini_upstream.fail_next("malformed")
    response = await chat(gateway)
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "bad_upstream_response"


USER_TURN = [{"role": "user", "parts": [{"text": "hi"}]}]
KEY = {"x-goog-api-key": "k"}


@pytest.mark.parametrize(("headers", "body", "status"), [
    ({}, {"contents": USER_TURN}, 403),
    (KEY, {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}, 400),
    (KEY, {"contents": [{"role": "assistant", "parts": [{"text": "hi"}]}]}, 400),
    (KEY, {"contents": USER_TURN, "stream": True}, 400),
])
async def test_fake_refuses_what_the_real_api_refuses(
    fake_gemini: FakeUpstream, headers: dict[str, str], body: dict[str, Any], status: int
) -> None:
    url = f"{fake_gemini.url}/v1beta/models/{MODEL}:generateContent"
    async with httpx.AsyncClient() as client:
        response = await client.post(url, json=body, headers=headers)
    assert response.status_code == status
    assert set(response.json()["error"]) == {"code", "message", "status"}
