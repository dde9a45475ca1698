"""Gateway → agent → weights, end to end with the openai SDK; and an agent outliving its gateway."""

from __future__ import annotations

import time
from pathlib import Path

import openai
import pytest

from tests.agents_worker.agent_process import AgentProcess, wait_for_model
from tests.agents_worker.conftest import MODEL, weights_agent_for
from tests.live import LiveGateway, free_port

HELLO = [{"role": "user", "content": "hello world"}]


@pytest.fixture(scope="module")
def linked(
    live_gateway: LiveGateway, weights_agent: AgentProcess
) -> tuple[LiveGateway, AgentProcess]:
    wait_for_model(live_gateway.url, MODEL)
    return live_gateway, weights_agent


def test_sdk_gets_the_local_models_generated_text_through_the_gateway(linked) -> None:  # type: ignore[no-untyped-def]
    gateway, agent = linked
    client = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key="unused", max_retries=0)
    answer = client.chat.completions.create(
        model=MODEL, messages=HELLO, temperature=0, max_tokens=8
    )
    direct = agent.chat(model=MODEL, messages=HELLO, temperature=0, max_tokens=8).json()
    assert answer.choices[0].message.content == direct["choices"][0]["message"]["content"]
    assert answer.choices[0].message.content.strip()
    assert answer.choices[0].finish_reason == "length"
    assert answer.usage is not None and answer.usage.completion_tokens == 8


def test_sdk_streams_the_local_model_through_the_gateway(linked) -> None:  # type: ignore[no-untyped-def]
    gateway, agent = linked
    client = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key="unused", max_retries=0)
    stream = client.chat.completions.create(
        model=MODEL,
        messages=HELLO,
        temperature=0,
        max_tokens=8,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    direct = agent.chat(model=MODEL, messages=HELLO, temperature=0, max_tokens=8).json()
    assert text == direct["choices"][0]["message"]["content"]
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 1
    assert [
        c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason
    ] == ["length"]


def test_agent_waits_for_a_gateway_that_is_down_and_registers_when_it_comes_up(
    tmp_path_factory: pytest.TempPathFactory,
    tiny_model_dir: Path,
    new_gateway,  # type: ignore[no-untyped-def]
) -> None:
    port = free_port()
    agent = weights_agent_for(
        tmp_path_factory.mktemp("patient"), tiny_model_dir, f"http://127.0.0.1:{port}", "patient"
    )
    agent.start()
    gateways: list[LiveGateway] = []
    try:
        time.sleep(1.5)  # several refused attempts
        link = agent.health().json()["gateway"]
        assert agent.running() and not link["registered"] and link["last_error"]
        gateways.append(new_gateway(port).start())
        wait_for_model(gateways[0].url, MODEL)
        assert agent.health().json()["gateway"]["registered"]
        # The gateway comes back on a fresh database: 401 on heartbeat, so it re-registers.
        gateways.pop().stop()
        gateways.append(new_gateway(port).start())
        wait_for_model(gateways[0].url, MODEL)
        assert agent.running()
    finally:
        for gateway in gateways:
            gateway.stop()
        agent.stop()
