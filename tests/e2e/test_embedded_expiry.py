"""Without Redis (no Celery beat) the gateway process itself expires silent agents and revives them."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.fakes.server import FakeUpstream
from tests.live import LiveGateway

HI = [{"role": "user", "content": "hi"}]


@pytest.fixture
def gateway(tmp_path) -> Iterator[LiveGateway]:  # type: ignore[no-untyped-def]
    server = LiveGateway(tmp_path, {
        "AGENT_REGISTRATION_TOKEN": "reg-secret",
        "AGENT_HEARTBEAT_TIMEOUT": "1",
        "AGENT_EXPIRY_SECONDS": "0.5",
        "LOCAL_AGENT_URL": "http://127.0.0.1:9",  # nothing listens: no silent fallback
    }).start()
    yield server
    server.stop()


def _chat(gateway: LiveGateway) -> httpx.Response:
    return httpx.post(f"{gateway.url}/v1/chat/completions", timeout=10,
                      json={"model": "local_tiny-embedded", "messages": HI})


def test_gateway_process_expires_a_silent_agent_and_a_heartbeat_revives_it(gateway, fake_openai: FakeUpstream) -> None:  # type: ignore[no-untyped-def]
    registered = httpx.post(f"{gateway.url}/register", headers={"authorization": "Bearer reg-secret"},
                            json={"name": "edge", "endpoint": fake_openai.url, "models": ["local_tiny-embedded"]})
    assert registered.status_code == 201, registered.text
    assert _chat(gateway).status_code == 200
    deadline = time.monotonic() + 8
    while _chat(gateway).status_code != 503 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _chat(gateway).json()["error"]["code"] == "model_unavailable"
    beat = httpx.post(f"{gateway.url}/heartbeat", json={"name": "edge"},
                      headers={"authorization": f"Bearer {registered.json()['token']}"})
    assert beat.status_code == 200
    time.sleep(0.5)  # the next snapshot poll sees the revived provider
    assert _chat(gateway).status_code == 200
