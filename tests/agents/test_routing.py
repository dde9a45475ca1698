"""The data plane forwards an agent's models to the endpoint it registered, and stops when it expires."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async

from agents.services import agents_expire_stale
from tests.agents.protocol import MODEL, SECRET, body

pytestmark = pytest.mark.django_db(transaction=True)

HI = [{"role": "user", "content": "hi"}]


async def chat(gateway: Any) -> Any:
    return await gateway.post("/v1/chat/completions", json={"model": MODEL, "messages": HI})


@pytest.fixture
async def agent(gateway, fake_openai) -> str:  # type: ignore[no-untyped-def]
    """An agent registered (through the gateway) at the fake's URL; its token."""
    response = await gateway.post(
        "/register", json=body(endpoint=fake_openai.url), headers={"Authorization": f"Bearer {SECRET}"}
    )
    assert response.status_code == 201, response.text
    return response.json()["token"]


async def test_agent_model_is_forwarded_to_the_registered_endpoint(gateway, agent, fake_openai, settings):
    settings.LOCAL_AGENT_URL = "http://127.0.0.1:9"  # the default target must not be what answers
    response = await chat(gateway)
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"] == "Hello from the fake upstream"
    assert response.headers["x-switchyard-provider"] == "agent-local-agent"
    assert fake_openai.requests[-1].path == "/v1/chat/completions"
    assert fake_openai.requests[-1].body["model"] == MODEL


async def test_agent_models_are_listed_while_alive(gateway, agent):
    listed = (await gateway.get("/v1/models")).json()["data"]
    assert {"id": MODEL, "owned_by": "agent-local-agent"}.items() <= next(
        m for m in listed if m["id"] == MODEL).items()
    await sync_to_async(agents_expire_stale)(now=_later())
    assert MODEL not in [m["id"] for m in (await gateway.get("/v1/models")).json()["data"]]


async def test_expired_agents_model_is_a_503_naming_the_agent(gateway, agent, fake_openai, settings):
    settings.LOCAL_AGENT_URL = fake_openai.url  # not re-routed by the `local*` heuristic either
    await sync_to_async(agents_expire_stale)(now=_later())
    fake_openai.requests.clear()
    response = await chat(gateway)
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "model_unavailable"
    assert "agent-local-agent" in response.json()["error"]["message"]
    assert fake_openai.requests == []


async def test_heartbeat_brings_the_model_back(gateway, agent, fake_openai):
    await sync_to_async(agents_expire_stale)(now=_later())
    response = await gateway.post(
        "/heartbeat", json={"name": "local-agent"}, headers={"Authorization": f"Bearer {agent}"}
    )
    assert response.json() == {"status": "alive", "heartbeat_interval": 15}
    response = await chat(gateway)
    assert response.status_code == 200, response.text
    assert response.headers["x-switchyard-provider"] == "agent-local-agent"


def _later() -> Any:
    from datetime import timedelta

    from django.utils import timezone

    return timezone.now() + timedelta(seconds=61)
