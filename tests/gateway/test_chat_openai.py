"""Chat completions through the OpenAI-compatible wire format, in process."""

from __future__ import annotations

import orjson
import pytest

pytestmark = pytest.mark.django_db(transaction=True)

HI = [{"role": "user", "content": "hi"}]


async def test_quickstart_dummy_answers_hello_world(gateway):
    response = await gateway.post("/v1/chat/completions", json={"model": "dummy", "messages": HI})
    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "chat.completion"
    assert body["choices"][0]["message"] == {"role": "assistant", "content": "Hello world"}
    assert body["choices"][0]["finish_reason"] == "stop"


async def test_gpt_prefix_is_forwarded_to_openai_with_key(gateway, openai_upstream, fake_openai):
    response = await gateway.post("/v1/chat/completions", json={"model": "gpt-4o", "messages": HI})
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"] == "Hello from the fake upstream"
    assert response.headers["x-switchyard-provider"] == "openai"
    assert response.headers["x-switchyard-model"] == "gpt-4o"
    seen = fake_openai.requests[-1]
    assert seen.headers["Authorization"] == "Bearer sk-test-openai"
    assert seen.body["model"] == "gpt-4o"


async def test_upstream_429_is_relayed_with_status_when_no_fallback(gateway, openai_upstream, fake_openai):
    fake_openai.fail_next("429")
    response = await gateway.post("/v1/chat/completions", json={"model": "gpt-4o", "messages": HI})
    assert response.status_code == 429
    assert response.json()["error"]["type"] == "rate_limit_error"


async def test_malformed_upstream_answer_is_a_502(gateway, openai_upstream, fake_openai):
    fake_openai.fail_next("malformed")
    response = await gateway.post("/v1/chat/completions", json={"model": "gpt-4o", "messages": HI})
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "bad_upstream_response"


async def test_hanging_upstream_times_out_with_504(gateway, openai_upstream, fake_openai):
    fake_openai.fail_next("hang")
    response = await gateway.post("/v1/chat/completions", json={"model": "gpt-4o", "messages": HI})
    assert response.status_code == 504


async def test_missing_key_names_the_variable(gateway, settings, fake_openai):
    settings.OPENAI_BASE_URL = fake_openai.url
    response = await gateway.post("/v1/chat/completions", json={"model": "gpt-4o", "messages": HI})
    assert response.status_code == 503
    assert "EXTERNAL_OPENAI_KEY" in response.json()["error"]["message"]
    assert fake_openai.requests == []


async def test_unknown_model_is_404_model_not_found(gateway):
    response = await gateway.post("/v1/chat/completions", json={"model": "no-such-model", "messages": HI})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "model_not_found"
    assert response.json()["error"]["param"] == "model"


async def test_stream_is_forwarded_with_done(gateway, openai_upstream):
    body = {"model": "gpt-4o", "messages": HI, "stream": True}
    response = await gateway.post("/v1/chat/completions", json=body)
    assert response.status_code == 200
    lines = [l for l in response.text.split("\n\n") if l]
    assert lines[-1] == "data: [DONE]"
    text = "".join(
        (orjson.loads(l[6:])["choices"][0]["delta"].get("content") or "") for l in lines[:-1]
    )
    assert text == "Hello from the fake upstream"
