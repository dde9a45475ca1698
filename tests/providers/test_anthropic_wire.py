"""The Anthropic Messages translation as pure functions: requests, answers, errors and streams."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from providers.wire.anthropic import AnthropicAdapter
from providers.wire.base import MalformedUpstream, Target, UnsupportedRequest, UpstreamError

ADAPTER = AnthropicAdapter()
TARGET = Target("http://upstream.test/v1", "sk-ant-test", "claude-3-5-haiku-latest")
HI = [{"role": "user", "content": "hi"}]
WEATHER = {"name": "get_weather", "arguments": '{"city":"Paris"}'}
CALL = {"id": "toolu_1", "type": "function", "function": WEATHER}


def translate(**body: Any) -> dict[str, Any]:
    body.setdefault("messages", HI)
    return orjson.loads(ADAPTER.chat_request(TARGET, body, stream=False).body)


def answer(**fields: Any) -> dict[str, Any]:
    message = {
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-3-5-haiku-20241022",
        "content": [{"type": "text", "text": "Hi!"}], "stop_reason": "end_turn", "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 3},
    }
    return ADAPTER.chat_response(orjson.dumps({**message, **fields}), model="claude-3-5-haiku-latest")


def test_request_goes_to_messages_with_key_and_version(settings):
    request = ADAPTER.chat_request(TARGET, {"messages": HI}, stream=False)
    assert request.url == "http://upstream.test/v1/messages"
    assert request.headers["x-api-key"] == "sk-ant-test"
    assert request.headers["anthropic-version"] == settings.ANTHROPIC_VERSION


def test_single_system_message_becomes_top_level_string():
    body = translate(messages=[{"role": "system", "content": "Be brief."}, *HI])
    assert body["system"] == "Be brief."
    assert body["messages"] == [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]


def test_several_system_and_developer_messages_become_text_blocks():
    system = [{"role": "system", "content": "Be brief."}, {"role": "developer", "content": "Use French."}]
    messages = [*system, *HI]
    assert translate(messages=messages)["system"] == [
        {"type": "text", "text": "Be brief."}, {"type": "text", "text": "Use French."}]


def test_consecutive_same_role_messages_merge_into_one_turn():
    body = translate(messages=[*HI, {"role": "user", "content": "there"}])
    assert body["messages"] == [{"role": "user", "content": [
        {"type": "text", "text": "hi"}, {"type": "text", "text": "there"}]}]


def test_data_url_image_becomes_base64_source():
    part = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
    body = translate(messages=[{"role": "user", "content": [part]}])
    assert body["messages"][0]["content"] == [
        {"type": "image",
         "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}]


def test_https_image_url_becomes_url_source():
    part = {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}}
    body = translate(messages=[{"role": "user", "content": [{"type": "text", "text": "what?"}, part]}])
    assert body["messages"][0]["content"][1] == {
        "type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}}


def test_image_from_other_scheme_is_unsupported_naming_the_part():
    part = {"type": "image_url", "image_url": {"url": "ftp://example.com/cat.jpg"}}
    with pytest.raises(UnsupportedRequest) as caught:
        translate(messages=[{"role": "user", "content": [part]}])
    assert caught.value.param == "messages[0].content[0].image_url.url"


def test_assistant_tool_calls_become_tool_use_blocks():
    body = translate(messages=[*HI, {"role": "assistant", "content": None, "tool_calls": [CALL]}])
    assert body["messages"][1] == {"role": "assistant", "content": [
        {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}]}


def test_invalid_tool_call_arguments_are_unsupported_naming_the_param():
    call = {**CALL, "function": {"name": "get_weather", "arguments": "{not json"}}
    with pytest.raises(UnsupportedRequest) as caught:
        translate(messages=[*HI, {"role": "assistant", "content": None, "tool_calls": [call]}])
    assert caught.value.param == "messages[1].tool_calls[0].function.arguments"


def test_tool_results_join_the_next_user_turn_ahead_of_its_text():
    messages = [*HI, {"role": "assistant", "content": None, "tool_calls": [CALL]},
                {"role": "tool", "tool_call_id": "toolu_1", "content": "18°C"},
                {"role": "user", "content": "and tomorrow?"}]
    assert translate(messages=messages)["messages"][2] == {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "toolu_1", "content": "18°C"},
        {"type": "text", "text": "and tomorrow?"}]}


def test_tools_are_sent_with_input_schema():
    schema = {"type": "object", "properties": {"city": {"type": "string"}}}
    function = {"name": "get_weather", "description": "Weather", "parameters": schema}
    tool = {"type": "function", "function": function}
    assert translate(tools=[tool])["tools"] == [
        {"name": "get_weather", "description": "Weather", "input_schema": schema}]


@pytest.mark.parametrize("choice, expected", [
    ("auto", {"type": "auto"}),
    ("required", {"type": "any"}),
    ("none", {"type": "none"}),
    ({"type": "function", "function": {"name": "get_weather"}}, {"type": "tool", "name": "get_weather"}),
])
def test_tool_choice_maps_to_anthropic(choice: Any, expected: dict[str, Any]):
    tools = [{"type": "function", "function": {"name": "get_weather"}}]
    assert translate(tools=tools, tool_choice=choice)["tool_choice"] == expected


def test_parallel_tool_calls_false_disables_parallel_tool_use():
    tools = [{"type": "function", "function": {"name": "get_weather"}}]
    body = translate(tools=tools, parallel_tool_calls=False)
    assert body["tool_choice"] == {"type": "auto", "disable_parallel_tool_use": True}


def test_max_tokens_defaults_from_settings(settings):
    settings.ANTHROPIC_DEFAULT_MAX_TOKENS = 1234
    assert translate()["max_tokens"] == 1234


def test_max_completion_tokens_wins_over_max_tokens():
    assert translate(max_tokens=50, max_completion_tokens=80)["max_tokens"] == 80


def test_temperature_above_anthropics_range_is_clamped_to_one():
    assert translate(temperature=1.7)["temperature"] == 1


def test_sampling_stop_and_user_are_translated():
    body = translate(temperature=0.2, top_p=0.9, stop="END", user="user-42")
    assert (body["temperature"], body["top_p"]) == (0.2, 0.9)
    assert body["stop_sequences"] == ["END"]
    assert body["metadata"] == {"user_id": "user-42"}


def test_openai_only_fields_are_not_forwarded():
    body = translate(presence_penalty=0.5, frequency_penalty=0.1, seed=7, logit_bias={}, n=1)
    assert set(body) == {"model", "messages", "max_tokens"}


def test_more_than_one_choice_is_unsupported():
    with pytest.raises(UnsupportedRequest) as caught:
        translate(n=2)
    assert caught.value.param == "n"


def test_answer_text_blocks_are_joined_into_content():
    body = answer(content=[{"type": "thinking", "thinking": "hmm", "signature": "x"},
                           {"type": "text", "text": "Hello "}, {"type": "text", "text": "there"}])
    assert body["choices"][0]["message"] == {"role": "assistant", "content": "Hello there"}
    assert body["id"] == "msg_1"


def test_answer_tool_use_becomes_tool_calls_with_null_content():
    block = {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}
    body = answer(content=[block], stop_reason="tool_use")
    message = body["choices"][0]["message"]
    assert message["content"] is None
    assert message["tool_calls"] == [CALL]
    assert body["choices"][0]["finish_reason"] == "tool_calls"


@pytest.mark.parametrize("stop_reason, finish_reason", [
    ("end_turn", "stop"), ("stop_sequence", "stop"), ("max_tokens", "length"),
    ("tool_use", "tool_calls"), ("refusal", "content_filter"),
])
def test_stop_reason_maps_to_finish_reason(stop_reason: str, finish_reason: str):
    assert answer(stop_reason=stop_reason)["choices"][0]["finish_reason"] == finish_reason


def test_usage_counts_cached_input_tokens_as_prompt_tokens():
    raw = {"input_tokens": 10, "output_tokens": 3,
           "cache_read_input_tokens": 100, "cache_creation_input_tokens": 5}
    assert answer(usage=raw)["usage"] == {
        "prompt_tokens": 115, "completion_tokens": 3, "total_tokens": 118,
        "prompt_tokens_details": {"cached_tokens": 100}}


@pytest.mark.parametrize("payload", [b"{nope", b"[]", b'{"type": "message"}', b'{"choices": []}'])
def test_answer_that_is_not_a_message_is_malformed(payload: bytes):
    with pytest.raises(MalformedUpstream):
        ADAPTER.chat_response(payload, model="claude-3-5-haiku-latest")


@pytest.mark.parametrize("status, kind, expected", [
    (429, "rate_limit_error", "rate_limit_error"),
    (401, "authentication_error", "authentication_error"),
    (400, "invalid_request_error", "invalid_request_error"),
    (404, "not_found_error", "not_found_error"),
    (529, "overloaded_error", "upstream_error"),
])
def test_error_body_keeps_status_and_maps_type(status: int, kind: str, expected: str):
    body = orjson.dumps({"type": "error", "error": {"type": kind, "message": "Nope"}})
    error = ADAPTER.error(status, body)
    assert (error.status, error.type, error.message) == (status, expected, "Nope")


def test_non_json_error_body_keeps_its_text():
    error = ADAPTER.error(503, b"<html>Service Unavailable</html>")
    assert (error.status, error.message) == (503, "<html>Service Unavailable</html>")


def start(model: str = "claude-3-5-haiku-20241022") -> tuple[str, str]:
    message = {"id": "msg_1", "type": "message", "role": "assistant", "model": model, "content": [],
               "stop_reason": None, "usage": {"input_tokens": 25, "output_tokens": 1}}
    return "message_start", orjson.dumps({"type": "message_start", "message": message}).decode()


def ev(kind: str, **fields: Any) -> tuple[str, str]:
    return kind, orjson.dumps({"type": kind, **fields}).decode()


def text(index: int, piece: str) -> tuple[str, str]:
    return ev("content_block_delta", index=index, delta={"type": "text_delta", "text": piece})


def tool(index: int, tool_id: str, name: str) -> tuple[str, str]:
    block = {"type": "tool_use", "id": tool_id, "name": name, "input": {}}
    return ev("content_block_start", index=index, content_block=block)


def args(index: int, partial: str) -> tuple[str, str]:
    delta = {"type": "input_json_delta", "partial_json": partial}
    return ev("content_block_delta", index=index, delta=delta)


def ending(stop_reason: str = "end_turn") -> list[tuple[str, str]]:
    return [ev("message_delta", delta={"stop_reason": stop_reason}, usage={"output_tokens": 12}),
            ev("message_stop")]


def run(events: list[tuple[str, str]], include_usage: bool = False) -> list[dict[str, Any]]:
    translator = ADAPTER.stream(model="claude-3-5-haiku-latest", include_usage=include_usage)
    out = [payload for event, data in events for payload in translator.feed(event, data)]
    return [orjson.loads(payload) for payload in out + translator.finish()]


def deltas(chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c["choices"][0]["delta"] for c in chunks if c["choices"]]


def test_stream_opens_with_an_assistant_role_chunk():
    first = run([start(), *ending()])[0]
    assert first["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert (first["id"], first["object"]) == ("msg_1", "chat.completion.chunk")


def test_stream_text_deltas_become_content_and_noise_is_skipped():
    thinking = ev("content_block_delta", index=0, delta={"type": "thinking_delta", "thinking": "hmm"})
    block = ev("content_block_start", index=1, content_block={"type": "text", "text": ""})
    chunks = run([start(), ev("ping"), thinking, block, text(1, "Hel"), text(1, "lo"), *ending()])
    assert "".join(d.get("content") or "" for d in deltas(chunks)) == "Hello"
    assert len(chunks) == 4  # role, two pieces, finish


def test_stream_tool_calls_are_numbered_from_zero_with_their_argument_deltas():
    block = ev("content_block_start", index=0, content_block={"type": "text", "text": ""})
    events = [start(), block, text(0, "Checking."), tool(1, "toolu_a", "get_weather"), args(1, ""),
              args(1, '{"city": "Par'), args(1, 'is"}'), tool(2, "toolu_b", "get_time"), args(2, "{}"),
              *ending("tool_use")]
    calls = [c for d in deltas(run(events)) for c in d.get("tool_calls", [])]
    assert calls[0] == {"index": 0, "id": "toolu_a", "type": "function",
                        "function": {"name": "get_weather", "arguments": ""}}
    assert "".join(c["function"]["arguments"] for c in calls if c["index"] == 0) == '{"city": "Paris"}'
    assert calls[3]["index"] == 1 and calls[3]["id"] == "toolu_b"


def test_stream_tool_call_without_input_gets_empty_object_arguments():
    events = [start(), tool(0, "toolu_a", "get_time"), args(0, ""), ev("content_block_stop", index=0),
              *ending("tool_use")]
    calls = [c for d in deltas(run(events)) for c in d.get("tool_calls", [])]
    assert "".join(c["function"]["arguments"] for c in calls) == "{}"


def test_stream_stop_reason_becomes_the_finish_chunk():
    last = run([start(), text(0, "x"), *ending("max_tokens")])[-1]
    assert last["choices"][0] == {"index": 0, "delta": {}, "finish_reason": "length"}


def test_stream_with_include_usage_ends_with_a_usage_chunk():
    last = run([start(), text(0, "x"), *ending()], include_usage=True)[-1]
    assert last["choices"] == []
    assert last["usage"] == {"prompt_tokens": 25, "completion_tokens": 12, "total_tokens": 37}


def test_stream_without_include_usage_has_no_usage_chunk():
    assert all("usage" not in c for c in run([start(), text(0, "x"), *ending()]))


def test_stream_error_event_raises_upstream_error():
    translator = ADAPTER.stream(model="claude-3-5-haiku-latest", include_usage=False)
    translator.feed(*start())
    with pytest.raises(UpstreamError) as caught:
        translator.feed(*ev("error", error={"type": "overloaded_error", "message": "Overloaded"}))
    assert (caught.value.status, caught.value.message) == (529, "Overloaded")


def test_stream_cut_before_message_stop_is_malformed():
    translator = ADAPTER.stream(model="claude-3-5-haiku-latest", include_usage=False)
    translator.feed(*start())
    translator.feed(*text(0, "Hel"))
    with pytest.raises(MalformedUpstream):
        translator.finish()
