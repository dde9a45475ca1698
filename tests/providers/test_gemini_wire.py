"""The Gemini adapter's pure translations: OpenAI requests in, Gemini answers and streams out."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from providers.wire.base import MalformedUpstream, Target, UnsupportedRequest, UpstreamError
from providers.wire.gemini import GeminiAdapter

ADAPTER = GeminiAdapter()
MODEL = "gemini-2.0-flash"
TARGET = Target("http://upstream/v1beta", "secret-key", MODEL)
HI = [{"role": "user", "content": "hi"}]
Json = dict[str, Any]
CALL = {"id": "call_1", "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'}}
ASKED = {"role": "assistant", "content": None, "tool_calls": [CALL]}
WEATHER = {"type": "function", "function": {"name": "get_weather"}}


def translate(messages: list[dict[str, Any]] = HI, **fields: Any) -> dict[str, Any]:
    request = ADAPTER.chat_request(TARGET, {"messages": messages, **fields}, stream=False)
    payload: dict[str, Any] = orjson.loads(request.body)
    return payload


def first_parts(content: list[dict[str, Any]]) -> list[dict[str, Any]]:
    turn = translate([{"role": "user", "content": content}])["contents"][0]
    return list(turn["parts"])


def candidate(parts: list[dict[str, Any]], finish: str | None = "STOP") -> dict[str, Any]:
    return {"content": {"role": "model", "parts": parts}, "index": 0, "finishReason": finish}


def answer(parts: list[dict[str, Any]], finish: str | None = "STOP", **extra: Any) -> Json:
    payload = orjson.dumps({"candidates": [candidate(parts, finish)], **extra})
    return ADAPTER.chat_response(payload, model=MODEL)


def text_event(text: str, finish: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"candidates": [candidate([{"text": text}], finish)], **extra}


def run_stream(events: list[dict[str, Any]], include_usage: bool = False) -> list[dict[str, Any]]:
    translator = ADAPTER.stream(model=MODEL, include_usage=include_usage)
    out = [p for e in events for p in translator.feed("message", orjson.dumps(e).decode())]
    return [orjson.loads(p) for p in out + translator.finish()]


def test_request_posts_to_generate_content_with_the_key_in_a_header() -> None:
    request = ADAPTER.chat_request(TARGET, {"messages": HI}, stream=False)
    assert request.url == "http://upstream/v1beta/models/gemini-2.0-flash:generateContent"
    assert request.headers["x-goog-api-key"] == "secret-key"
    assert "secret-key" not in request.url


def test_stream_request_asks_for_server_sent_events() -> None:
    url = ADAPTER.chat_request(TARGET, {"messages": HI}, stream=True).url
    assert url == "http://upstream/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse"


def test_model_already_prefixed_with_models_is_not_doubled() -> None:
    target = Target("http://upstream/v1beta", "k", "models/gemini-2.0-flash")
    url = ADAPTER.chat_request(target, {"messages": HI}, stream=False).url
    assert url == "http://upstream/v1beta/models/gemini-2.0-flash:generateContent"


def test_system_and_developer_messages_become_the_system_instruction() -> None:
    system = [{"role": "system", "content": "Be brief."}, {"role": "developer", "content": "Kg."}]
    payload = translate([*system, *HI])
    assert payload["systemInstruction"] == {"parts": [{"text": "Be brief."}, {"text": "Kg."}]}
    assert payload["contents"] == [{"role": "user", "parts": [{"text": "hi"}]}]


def test_assistant_turns_become_model_and_consecutive_turns_merge() -> None:
    messages = [*HI, {"role": "user", "content": "you"}, {"role": "assistant", "content": "hello"}]
    assert translate(messages)["contents"] == [
        {"role": "user", "parts": [{"text": "hi"}, {"text": "you"}]},
        {"role": "model", "parts": [{"text": "hello"}]},
    ]


def test_data_url_image_is_sent_inline() -> None:
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
    inline = {"mimeType": "image/png", "data": "iVBORw0KGgo="}
    assert first_parts([image]) == [{"inlineData": inline}]


@pytest.mark.parametrize(("url", "mime"), [
    ("https://x.test/cat.webp?size=1", "image/webp"), ("https://x.test/cat", "image/jpeg"),
])
def test_http_image_is_sent_as_file_data_with_a_guessed_type(url: str, mime: str) -> None:
    image = {"type": "image_url", "image_url": {"url": url}}
    assert first_parts([image]) == [{"fileData": {"mimeType": mime, "fileUri": url}}]


def test_tool_parameters_lose_the_schema_keywords_gemini_rejects() -> None:
    params = {
        "$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
        "additionalProperties": False, "$defs": {"Day": {"type": ["string", "null"]}},
        "properties": {"city": {"type": "string"}, "day": {"$ref": "#/$defs/Day"}},
    }
    tool = {"type": "function", "function": {"name": "f", "description": "d", "parameters": params}}
    assert translate(tools=[tool])["tools"] == [{"functionDeclarations": [{
        "name": "f", "description": "d", "parameters": {"type": "object", "properties": {
            "city": {"type": "string"}, "day": {"type": "string", "nullable": True}}},
    }]}]


def test_function_without_arguments_sends_no_parameters() -> None:
    params = {"type": "object", "properties": {}}
    tool = {"type": "function", "function": {"name": "now", "parameters": params}}
    assert translate(tools=[tool])["tools"] == [{"functionDeclarations": [{"name": "now"}]}]


@pytest.mark.parametrize(("choice", "config"), [
    ("auto", {"mode": "AUTO"}), ("none", {"mode": "NONE"}), ("required", {"mode": "ANY"}),
    ({"type": "function", "function": {"name": "get_weather"}},
     {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}),
])
def test_tool_choice_sets_the_function_calling_mode(choice: Any, config: dict[str, Any]) -> None:
    payload = translate(tools=[WEATHER], tool_choice=choice)
    assert payload["toolConfig"] == {"functionCallingConfig": config}


def test_tool_call_and_result_become_function_call_and_named_response() -> None:
    result = {"role": "tool", "tool_call_id": "call_1", "content": '{"temp": 21}'}
    contents = translate([*HI, ASKED, result])["contents"]
    call = {"functionCall": {"name": "get_weather", "args": {"city": "Oslo"}}}
    response = {"functionResponse": {"name": "get_weather", "response": {"temp": 21}}}
    assert contents[1] == {"role": "model", "parts": [call]}
    assert contents[2] == {"role": "user", "parts": [response]}


def test_plain_text_tool_result_is_wrapped_as_content() -> None:
    result = {"role": "tool", "tool_call_id": "call_1", "content": "sunny"}
    part = translate([*HI, ASKED, result])["contents"][2]["parts"][0]
    assert part["functionResponse"]["response"] == {"content": "sunny"}


def test_tool_result_for_an_unknown_call_is_unsupported() -> None:
    with pytest.raises(UnsupportedRequest) as caught:
        translate([*HI, {"role": "tool", "tool_call_id": "call_nowhere", "content": "x"}])
    assert caught.value.param == "messages[1].tool_call_id"


def test_thought_signature_of_a_tool_call_is_sent_back() -> None:
    signed = {**CALL, "extra_content": {"google": {"thought_signature": "c2ln"}}}
    messages: list[Json] = [*HI, {"role": "assistant", "content": None, "tool_calls": [signed]}]
    assert translate(messages)["contents"][1]["parts"][0]["thoughtSignature"] == "c2ln"


def test_system_only_conversation_is_unsupported() -> None:
    with pytest.raises(UnsupportedRequest):
        translate([{"role": "system", "content": "Be brief."}])


def test_sampling_fields_become_generation_config() -> None:
    config = translate(temperature=0.2, top_p=0.9, max_completion_tokens=64, stop="END", n=2,
                       seed=7, presence_penalty=0.5, frequency_penalty=0.1)["generationConfig"]
    assert config == {"temperature": 0.2, "topP": 0.9, "maxOutputTokens": 64, "candidateCount": 2,
                      "stopSequences": ["END"], "seed": 7, "presencePenalty": 0.5,
                      "frequencyPenalty": 0.1}


def test_json_schema_response_format_sets_mime_type_and_schema() -> None:
    properties = {"a": {"type": "integer"}}
    schema = {"type": "object", "additionalProperties": False, "properties": properties}
    config = translate(response_format={"type": "json_schema", "json_schema": {"schema": schema}})
    assert config["generationConfig"] == {
        "responseMimeType": "application/json",
        "responseSchema": {"type": "object", "properties": properties},
    }


def test_text_answer_becomes_a_chat_completion_with_usage() -> None:
    meta = {"promptTokenCount": 5, "candidatesTokenCount": 3, "totalTokenCount": 8}
    body = answer([{"text": "Hel"}, {"text": "lo"}], usageMetadata=meta, responseId="resp-1")
    message = {"role": "assistant", "content": "Hello"}
    assert body["id"] == "resp-1"
    assert body["choices"] == [{"index": 0, "message": message, "finish_reason": "stop"}]
    assert body["usage"] == {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}


def test_thoughts_are_left_out_of_the_answer_but_counted_as_completion_tokens() -> None:
    meta = {"promptTokenCount": 5, "candidatesTokenCount": 3, "thoughtsTokenCount": 10}
    body = answer([{"text": "hmm", "thought": True}, {"text": "ok"}], usageMetadata=meta)
    assert body["choices"][0]["message"]["content"] == "ok"
    assert body["usage"]["completion_tokens"] == 13
    assert body["usage"]["completion_tokens_details"] == {"reasoning_tokens": 10}


def test_function_call_becomes_a_tool_call_with_tool_calls_finish() -> None:
    part = {"functionCall": {"name": "get_weather", "args": {"city": "Oslo"}}}
    choice = answer([part])["choices"][0]
    call = choice["message"]["tool_calls"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert call["id"].startswith("call_") and call["function"]["name"] == "get_weather"
    assert orjson.loads(call["function"]["arguments"]) == {"city": "Oslo"}


@pytest.mark.parametrize(("reason", "expected"), [
    ("MAX_TOKENS", "length"), ("SAFETY", "content_filter"), ("RECITATION", "content_filter"),
    ("PROHIBITED_CONTENT", "content_filter"), ("OTHER", "stop"), (None, "stop"),
])
def test_finish_reasons_map_to_openai_ones(reason: str | None, expected: str) -> None:
    assert answer([{"text": "x"}], finish=reason)["choices"][0]["finish_reason"] == expected


def test_prompt_blocked_by_gemini_is_an_empty_content_filter_answer() -> None:
    blocked = {"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": {"totalTokenCount": 4}}
    choice = ADAPTER.chat_response(orjson.dumps(blocked), model=MODEL)["choices"][0]
    message = {"role": "assistant", "content": ""}
    assert choice == {"index": 0, "message": message, "finish_reason": "content_filter"}


@pytest.mark.parametrize("payload", [b'{"usageMetadata": {}}', b"[]", b"not json"])
def test_answer_without_candidates_is_malformed(payload: bytes) -> None:
    with pytest.raises(MalformedUpstream):
        ADAPTER.chat_response(payload, model=MODEL)


@pytest.mark.parametrize(("status", "google", "kind"), [
    (429, "RESOURCE_EXHAUSTED", "rate_limit_error"),
    (403, "PERMISSION_DENIED", "authentication_error"),
    (400, "INVALID_ARGUMENT", "invalid_request_error"), (404, "NOT_FOUND", "not_found_error"),
    (503, "UNAVAILABLE", "upstream_error"),
])
def test_google_error_status_maps_to_the_openai_error_type(
    status: int, google: str, kind: str
) -> None:
    body = {"error": {"code": status, "message": "nope", "status": google}}
    error = ADAPTER.error(status, orjson.dumps(body))
    assert (error.status, error.message, error.type) == (status, "nope", kind)


def test_invalid_api_key_is_an_authentication_error() -> None:
    info = {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}
    body = {"error": {"code": 400, "message": "API key not valid.", "status": "INVALID_ARGUMENT",
                      "details": [info]}}
    error = ADAPTER.error(400, orjson.dumps(body))
    assert (error.status, error.type) == (401, "authentication_error")


def test_non_json_error_keeps_the_upstream_text() -> None:
    error = ADAPTER.error(502, b"<html>Bad Gateway</html>")
    assert (error.status, error.message) == (502, "<html>Bad Gateway</html>")


def test_stream_sends_role_first_then_text_then_finish() -> None:
    chunks = run_stream([text_event("Hel"), text_event("lo", "STOP")])
    deltas = [c["choices"][0]["delta"] for c in chunks]
    assert deltas == [{"role": "assistant", "content": "Hel"}, {"content": "lo"}, {}]
    assert [c["choices"][0]["finish_reason"] for c in chunks] == [None, None, "stop"]


def test_stream_ends_with_usage_of_the_last_event_when_asked() -> None:
    early = {"promptTokenCount": 4, "totalTokenCount": 4}
    final = {"promptTokenCount": 4, "candidatesTokenCount": 2, "totalTokenCount": 6}
    events = [text_event("Hi", usageMetadata=early), text_event("!", "STOP", usageMetadata=final)]
    chunks = run_stream(events, include_usage=True)
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"] == {"prompt_tokens": 4, "completion_tokens": 2, "total_tokens": 6}


def test_stream_without_include_usage_sends_no_usage_chunk() -> None:
    event = text_event("Hi", "STOP", usageMetadata={"promptTokenCount": 4, "totalTokenCount": 4})
    assert all("usage" not in c for c in run_stream([event]))


def test_stream_function_calls_become_complete_indexed_tool_call_deltas() -> None:
    parts: list[Json] = [{"functionCall": {"name": "a", "args": {"x": 1}}},
                         {"functionCall": {"name": "b"}}]
    chunks = run_stream([{"candidates": [candidate(parts)]}])
    calls = chunks[0]["choices"][0]["delta"]["tool_calls"]
    seen = [(c["index"], c["function"]["name"], c["function"]["arguments"]) for c in calls]
    assert seen == [(0, "a", '{"x":1}'), (1, "b", "{}")]
    assert all(c["id"].startswith("call_") for c in calls)
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


def test_stream_of_a_blocked_prompt_finishes_with_content_filter() -> None:
    chunks = run_stream([{"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}}])
    assert chunks[-1]["choices"][0]["finish_reason"] == "content_filter"


def test_error_event_in_the_stream_raises_upstream_error() -> None:
    translator = ADAPTER.stream(model=MODEL, include_usage=False)
    event = {"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}}
    with pytest.raises(UpstreamError) as caught:
        translator.feed("message", orjson.dumps(event).decode())
    assert (caught.value.status, caught.value.message) == (503, "The model is overloaded.")


def test_stream_that_ends_without_a_finish_reason_is_malformed() -> None:
    translator = ADAPTER.stream(model=MODEL, include_usage=False)
    translator.feed("message", orjson.dumps(text_event("Hel")).decode())
    with pytest.raises(MalformedUpstream):
        translator.finish()
