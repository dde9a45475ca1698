"""The official openai SDK against a real gateway process, across all three wire formats."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from tests.fakes.server import FakeUpstream
from tests.live import LiveGateway

# One model per wire format, each routed by the quickstart's prefix heuristics.
WIRE_MODELS = {"openai": "gpt-4o", "anthropic": "claude-3-5-haiku-latest", "google": "gemini-2.0-flash"}
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
HI = [{"role": "user", "content": "hi"}]


@pytest.fixture(scope="module")
def live(
    tmp_path_factory: pytest.TempPathFactory,
    _openai_server: FakeUpstream,
    _openai_backup_server: FakeUpstream,
    _anthropic_server: FakeUpstream,
    _gemini_server: FakeUpstream,
) -> Iterator[LiveGateway]:
    server = LiveGateway(
        tmp_path_factory.mktemp("live"),
        {
            "OPENAI_BASE_URL": _openai_server.url,
            "EXTERNAL_OPENAI_KEY": "sk-live-openai",
            "ANTHROPIC_BASE_URL": _anthropic_server.url,
            "EXTERNAL_ANTHROPIC_KEY": "sk-live-anthropic",
            "GOOGLE_BASE_URL": _gemini_server.url,
            "EXTERNAL_GOOGLE_KEY": "live-google-key",
            "UPSTREAM_READ_TIMEOUT": "2",
            "CIRCUIT_FAILURE_THRESHOLD": "1000",
        },
    )
    server.migrate()
    server.manage("add_model", "backup-gpt", "openai", _openai_backup_server.url, "api", "--upstream-name", "gpt-4o")
    server.manage(
        "add_model", "flaky-gpt", "openai", _openai_server.url, "api",
        "--upstream-name", "gpt-4o", "--fallback", "backup-gpt",
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture
def client(live: LiveGateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{live.url}/v1", api_key="unused", max_retries=0)


@pytest.fixture
def fakes(fake_openai, fake_openai_backup, fake_anthropic, fake_gemini):  # type: ignore[no-untyped-def]
    fake_openai_backup.reply = "Hello from the backup"
    return {"openai": fake_openai, "anthropic": fake_anthropic, "google": fake_gemini, "backup": fake_openai_backup}


@pytest.mark.parametrize("wire", list(WIRE_MODELS))
def test_sdk_gets_completion_with_usage(client, fakes, wire) -> None:  # type: ignore[no-untyped-def]
    fakes[wire].reply = f"Hello from {wire}"
    answer = client.chat.completions.create(model=WIRE_MODELS[wire], messages=HI)
    assert answer.choices[0].message.content == f"Hello from {wire}"
    assert answer.choices[0].finish_reason == "stop"
    assert answer.usage is not None and answer.usage.total_tokens == sum(fakes[wire].usage)


@pytest.mark.parametrize("wire", list(WIRE_MODELS))
def test_sdk_streams_chunks_and_usage(client, fakes, wire) -> None:  # type: ignore[no-untyped-def]
    fakes[wire].reply = f"Streaming hello from {wire} in pieces"
    stream = client.chat.completions.create(
        model=WIRE_MODELS[wire], messages=HI, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == f"Streaming hello from {wire} in pieces"
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == sum(fakes[wire].usage)


@pytest.mark.parametrize("wire", list(WIRE_MODELS))
async def test_async_sdk_gets_completion(live, fakes, wire) -> None:  # type: ignore[no-untyped-def]
    fakes[wire].reply = f"Async hello from {wire}"
    async with openai.AsyncOpenAI(base_url=f"{live.url}/v1", api_key="unused", max_retries=0) as client:
        answer = await client.chat.completions.create(model=WIRE_MODELS[wire], messages=HI)
        stream = await client.chat.completions.create(model=WIRE_MODELS[wire], messages=HI, stream=True)
        streamed = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert answer.choices[0].message.content == f"Async hello from {wire}"
    assert streamed == f"Async hello from {wire}"


@pytest.mark.parametrize("wire", list(WIRE_MODELS))
def test_sdk_sees_tool_calls(client, fakes, wire) -> None:  # type: ignore[no-untyped-def]
    fakes[wire].tool_call = {"name": "get_weather", "arguments": {"city": "Paris"}}
    answer = client.chat.completions.create(model=WIRE_MODELS[wire], messages=HI, tools=[WEATHER_TOOL])
    call = answer.choices[0].message.tool_calls[0]
    assert answer.choices[0].finish_reason == "tool_calls"
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris"}


@pytest.mark.parametrize("wire", list(WIRE_MODELS))
def test_sdk_streams_tool_calls(client, fakes, wire) -> None:  # type: ignore[no-untyped-def]
    fakes[wire].tool_call = {"name": "get_weather", "arguments": {"city": "Oslo"}}
    stream = client.chat.completions.create(model=WIRE_MODELS[wire], messages=HI, tools=[WEATHER_TOOL], stream=True)
    names, arguments, finishes = [], "", []
    for chunk in stream:
        for choice in chunk.choices:
            for call in choice.delta.tool_calls or ():
                if call.function and call.function.name:
                    names.append(call.function.name)
                arguments += (call.function.arguments or "") if call.function else ""
            if choice.finish_reason:
                finishes.append(choice.finish_reason)
    assert names == ["get_weather"]
    assert json.loads(arguments) == {"city": "Oslo"}
    assert finishes == ["tool_calls"]


def test_failing_candidate_fails_over_to_the_registry_fallback(client, fakes) -> None:  # type: ignore[no-untyped-def]
    fakes["openai"].fail_next("500")
    raw = client.chat.completions.with_raw_response.create(model="flaky-gpt", messages=HI)
    assert raw.parse().choices[0].message.content == "Hello from the backup"
    assert raw.headers["x-switchyard-provider"] != "openai"
    assert len(fakes["openai"].requests) == 1 and len(fakes["backup"].requests) == 1


@pytest.mark.parametrize("failure", ["429", "hang", "reset", "stream_error_first", "empty_stream"])
def test_stream_fails_over_before_the_first_byte(client, fakes, failure) -> None:  # type: ignore[no-untyped-def]
    fakes["openai"].fail_next(failure)
    stream = client.chat.completions.create(model="flaky-gpt", messages=HI, stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "Hello from the backup"


def test_stream_cut_after_first_byte_ends_with_an_error_not_a_silent_truncation(client, fakes) -> None:  # type: ignore[no-untyped-def]
    fakes["openai"].reply = "this answer will be cut short by the upstream"
    fakes["openai"].fail_next("stream_cut")
    stream = client.chat.completions.create(model="gpt-4o", messages=HI, stream=True)
    with pytest.raises(openai.APIError):
        for _ in stream:
            pass


def test_quickstart_curl_request_answers_hello_world(live) -> None:  # type: ignore[no-untyped-def]
    response = httpx.post(
        f"{live.url}/v1/chat/completions",
        headers={"Content-Type": "application/json"},
        content='{"model":"dummy","messages":[{"role":"user","content":"hi"}]}',
    )
    assert response.status_code == 200
    assert response.json()["choices"][0]["message"]["content"] == "Hello world"
    assert response.json()["object"] == "chat.completion"


def test_models_endpoint_lists_the_registry(client) -> None:  # type: ignore[no-untyped-def]
    ids = {model.id for model in client.models.list()}
    assert {"flaky-gpt", "backup-gpt", "dummy"} <= ids


def test_sdk_sees_openai_error_shape_for_unknown_model(client) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="no-such-model", messages=HI)
    assert caught.value.body["code"] == "model_not_found"  # type: ignore[index]


def test_log_file_gets_one_line_per_request_without_secrets(live, client, fakes) -> None:  # type: ignore[no-untyped-def]
    client.chat.completions.create(model="gpt-4o", messages=HI)
    text = Path(live.env["LOG_FILE"]).read_text()
    assert "switchyard.access chat" in text
    assert "sk-live-openai" not in text and "live-google-key" not in text


def test_client_disconnect_mid_stream_closes_the_upstream_stream(live, fakes) -> None:  # type: ignore[no-untyped-def]
    fakes["openai"].reply = "one two three four five six seven eight"
    fakes["openai"].fail_next("slow_stream")
    body = {"model": "gpt-4o", "messages": HI, "stream": True}
    with httpx.stream("POST", f"{live.url}/v1/chat/completions", json=body, timeout=10) as response:
        next(response.iter_lines())  # the first chunk arrived; now hang up
    deadline = time.monotonic() + 5
    while fakes["openai"].abandoned == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert fakes["openai"].abandoned == 1
