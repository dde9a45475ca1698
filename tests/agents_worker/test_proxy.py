"""The proxy backend in a real agent process, relaying to the fake OpenAI-compatible server."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from tests.agents_worker.agent_process import AgentProcess
from tests.fakes.server import FakeUpstream
from tests.live import free_port

HI = [{"role": "user", "content": "hi"}]


@pytest.fixture(scope="module")
def proxy_agent(
    tmp_path_factory: pytest.TempPathFactory, _openai_server: FakeUpstream
) -> Iterator[AgentProcess]:
    agent = AgentProcess(
        tmp_path_factory.mktemp("proxy"),
        "--name",
        "proxy-agent",
        "--backend",
        "proxy",
        "--upstream",
        _openai_server.url,
        "--upstream-api-key",
        "sk-local-upstream",
        "--model",
        "local_llama=gpt-4o",
        "--model",
        "local_same",
        env={"UPSTREAM_READ_TIMEOUT": "2"},
    ).start()
    yield agent
    agent.stop()


def test_relays_a_completion_under_the_agents_model_name(
    proxy_agent: AgentProcess, fake_openai: FakeUpstream
) -> None:
    fake_openai.reply = "Hello from the local server"
    answer = proxy_agent.chat(model="local_llama", messages=HI)
    assert answer.status_code == 200
    assert answer.json()["choices"][0]["message"]["content"] == "Hello from the local server"
    assert answer.json()["model"] == "local_llama"
    sent = fake_openai.requests[-1]
    assert sent.path == "/v1/chat/completions" and sent.body["model"] == "gpt-4o"
    assert sent.headers["Authorization"] == "Bearer sk-local-upstream"


def test_a_model_without_source_keeps_its_name_upstream(
    proxy_agent: AgentProcess, fake_openai: FakeUpstream
) -> None:
    assert proxy_agent.chat(model="local_same", messages=HI).status_code == 200
    assert fake_openai.requests[-1].body["model"] == "local_same"


def test_streams_event_by_event_ending_with_done(
    proxy_agent: AgentProcess, fake_openai: FakeUpstream
) -> None:
    fake_openai.reply = "one two three"
    body = {
        "model": "local_llama",
        "messages": HI,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    with httpx.stream(
        "POST", f"{proxy_agent.url}/v1/chat/completions", json=body, timeout=10
    ) as response:
        assert response.status_code == 200
        events = [
            line.removeprefix("data: ")
            for line in response.iter_lines()
            if line.startswith("data: ")
        ]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert (
        "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
        == "one two three"
    )
    assert all(c["model"] == "local_llama" for c in chunks)
    assert chunks[-1]["usage"]["total_tokens"] == sum(fake_openai.usage)
    assert fake_openai.requests[-1].body["stream"] is True


@pytest.mark.parametrize("status", [429, 500, 503])
def test_relays_upstream_errors_with_their_status(
    proxy_agent: AgentProcess, fake_openai: FakeUpstream, status: int
) -> None:
    fake_openai.fail_next(str(status))
    answer = proxy_agent.chat(model="local_llama", messages=HI)
    assert answer.status_code == status
    assert answer.json()["error"]["message"] == f"fake upstream error {status}"


def test_upstream_timeout_is_a_504(proxy_agent: AgentProcess, fake_openai: FakeUpstream) -> None:
    fake_openai.fail_next("hang")
    answer = proxy_agent.chat(model="local_llama", messages=HI)
    assert answer.status_code == 504 and answer.json()["error"]["code"] == "upstream_timeout"


def test_validates_before_forwarding(proxy_agent: AgentProcess, fake_openai: FakeUpstream) -> None:
    answer = proxy_agent.chat(model="local_llama", messages=HI, top_p=7)
    assert answer.status_code == 400 and answer.json()["error"]["param"] == "top_p"
    assert fake_openai.requests == []


def test_upstream_down_is_a_502(tmp_path_factory: pytest.TempPathFactory) -> None:
    agent = AgentProcess(
        tmp_path_factory.mktemp("proxy-down"),
        "--name",
        "lonely",
        "--backend",
        "proxy",
        "--upstream",
        f"http://127.0.0.1:{free_port()}",
        "--model",
        "local_gone",
    ).start()
    try:
        answer = agent.chat(model="local_gone", messages=HI)
        assert (
            answer.status_code == 502 and answer.json()["error"]["code"] == "upstream_unreachable"
        )
    finally:
        agent.stop()
