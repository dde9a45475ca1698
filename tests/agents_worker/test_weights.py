"""The weights backend in a real agent process: real text from a tiny model built here."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from tests.agents_worker.agent_process import AgentProcess
from tests.agents_worker.conftest import MODEL
from tests.agents_worker.tiny_model import CORPUS

HELLO = [{"role": "user", "content": "hello world"}]
VOCAB = set(" ".join(CORPUS + ["user : assistant : system :"]).split())


def stream_events(agent: AgentProcess, **body: object) -> list[tuple[float, str]]:
    """(arrival time, data) of every SSE event, read as the bytes come."""
    events = []
    with httpx.stream(
        "POST", f"{agent.url}/v1/chat/completions", json={**body, "stream": True}, timeout=30
    ) as r:
        assert r.status_code == 200, r.read()
        assert r.headers["content-type"].startswith("text/event-stream")
        for line in r.iter_lines():
            if line.startswith("data: "):
                events.append((time.monotonic(), line.removeprefix("data: ")))
    return events


def test_generates_real_text_deterministically_at_temperature_zero(
    weights_agent: AgentProcess,
) -> None:
    first = weights_agent.chat(model=MODEL, messages=HELLO, temperature=0, max_tokens=12)
    second = weights_agent.chat(model=MODEL, messages=HELLO, temperature=0, max_tokens=12)
    assert first.status_code == 200, first.text
    text = first.json()["choices"][0]["message"]["content"]
    assert text.strip() and set(text.split()) <= VOCAB
    assert text == second.json()["choices"][0]["message"]["content"]
    answer = first.json()
    assert answer["object"] == "chat.completion" and answer["model"] == MODEL
    assert answer["choices"][0]["message"]["role"] == "assistant"


def test_different_prompts_give_different_text(weights_agent: AgentProcess) -> None:
    texts = {
        weights_agent.chat(
            model=MODEL, messages=[{"role": "user", "content": q}], temperature=0, max_tokens=10
        ).json()["choices"][0]["message"]["content"]
        for q in ("hello world", "the quick brown fox", "switchyard routes every request")
    }
    assert len(texts) > 1


def test_max_tokens_is_honoured_with_finish_reason_length(weights_agent: AgentProcess) -> None:
    answer = weights_agent.chat(model=MODEL, messages=HELLO, temperature=0, max_tokens=3).json()
    assert answer["choices"][0]["finish_reason"] == "length"
    assert answer["usage"]["completion_tokens"] == 3
    assert len(answer["choices"][0]["message"]["content"].split()) <= 3


def test_usage_counts_the_chat_template_prompt(
    weights_agent: AgentProcess, tiny_model_dir: Path
) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir, local_files_only=True)
    prompt = tokenizer.apply_chat_template(HELLO, add_generation_prompt=True, tokenize=False)
    usage = weights_agent.chat(model=MODEL, messages=HELLO, temperature=0, max_tokens=5).json()[
        "usage"
    ]
    assert usage["prompt_tokens"] == len(tokenizer(prompt, add_special_tokens=False)["input_ids"])
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_streams_chunks_that_join_to_the_same_text(weights_agent: AgentProcess) -> None:
    events = stream_events(
        weights_agent,
        model=MODEL,
        messages=HELLO,
        temperature=0,
        max_tokens=12,
        stream_options={"include_usage": True},
    )
    assert events[-1][1] == "[DONE]"
    chunks = [json.loads(data) for _, data in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" and c["model"] == MODEL for c in chunks)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    pieces = [c["choices"][0]["delta"].get("content", "") for c in chunks[1:] if c["choices"]]
    assert len([p for p in pieces if p]) > 1  # token by token, not one buffered answer
    assert chunks[-2]["choices"][0]["finish_reason"] == "length"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 12
    whole = weights_agent.chat(model=MODEL, messages=HELLO, temperature=0, max_tokens=12).json()
    assert "".join(pieces) == whole["choices"][0]["message"]["content"]


def test_stop_sequence_ends_the_text_before_it(weights_agent: AgentProcess) -> None:
    text = weights_agent.chat(model=MODEL, messages=HELLO, temperature=0, max_tokens=12).json()
    words = text["choices"][0]["message"]["content"].split()
    stop = f" {words[2]} "  # a word that follows at least two others
    answer = weights_agent.chat(
        model=MODEL, messages=HELLO, temperature=0, max_tokens=12, stop=[stop]
    ).json()
    content = answer["choices"][0]["message"]["content"]
    assert stop not in content and (text["choices"][0]["message"]["content"]).startswith(
        content + stop
    )
    assert answer["choices"][0]["finish_reason"] == "stop"


def test_sampling_with_temperature_still_gives_vocabulary_words(
    weights_agent: AgentProcess,
) -> None:
    answer = weights_agent.chat(
        model=MODEL, messages=HELLO, temperature=1.2, top_p=0.9, max_tokens=8
    ).json()
    text = answer["choices"][0]["message"]["content"]
    assert set(text.split()) <= VOCAB and answer["usage"]["completion_tokens"] <= 8


def test_model_named_under_hf_cache_dir_is_served(weights_agent: AgentProcess) -> None:
    answer = weights_agent.chat(model="local_cached", messages=HELLO, temperature=0, max_tokens=4)
    assert answer.status_code == 200 and answer.json()["model"] == "local_cached"


def test_lists_models_and_reports_health(weights_agent: AgentProcess) -> None:
    models = httpx.get(f"{weights_agent.url}/v1/models").json()
    assert {m["id"] for m in models["data"]} == {MODEL, "local_cached"}
    health = weights_agent.health().json()
    assert health["status"] == "ok" and health["models"] == {
        MODEL: "ready",
        "local_cached": "ready",
    }


@pytest.mark.parametrize(
    ("body", "status", "param", "code"),
    [
        (
            {"model": MODEL, "messages": HELLO, "temperature": 3},
            400,
            "temperature",
            "invalid_value",
        ),
        ({"model": MODEL, "messages": []}, 400, "messages", "invalid_value"),
        ({"model": MODEL, "messages": HELLO, "n": 2}, 400, "n", "invalid_value"),
        (
            {
                "model": MODEL,
                "messages": HELLO,
                "tools": [{"type": "function", "function": {"name": "f"}}],
            },
            400,
            "tools",
            "invalid_value",
        ),
        ({"model": "local_missing", "messages": HELLO}, 404, "model", "model_not_found"),
    ],
)
def test_rejects_in_openai_error_shape(
    weights_agent: AgentProcess, body: dict, status: int, param: str, code: str
) -> None:
    response = weights_agent.chat(**body)
    assert response.status_code == status
    assert response.json()["error"]["param"] == param and response.json()["error"]["code"] == code
    assert set(response.json()["error"]) == {"message", "type", "param", "code"}


def test_rejects_a_prompt_longer_than_the_context(weights_agent: AgentProcess) -> None:
    response = weights_agent.chat(model=MODEL, messages=[{"role": "user", "content": "dog " * 300}])
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "context_length_exceeded"
    streamed = httpx.post(
        f"{weights_agent.url}/v1/chat/completions",
        timeout=10,
        json={
            "model": MODEL,
            "messages": [{"role": "user", "content": "dog " * 300}],
            "stream": True,
        },
    )
    assert streamed.status_code == 400  # refused before the stream starts, not mid-way
