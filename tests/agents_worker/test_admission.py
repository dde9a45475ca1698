"""In process: a loading model answers 503, and a full queue refuses rather than piling up work."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from agents.worker.app import AgentApp
from agents.worker.backend import READY
from agents.worker.config import AgentConfig, ModelSpec
from agents.worker.weights import WeightsBackend
from tests.agents_worker.conftest import MODEL

HELLO = [{"role": "user", "content": "hello world"}]


def backend_for(model_dir: Path, *, queue_size: int = 8) -> WeightsBackend:
    config = AgentConfig(
        name="inproc",
        host="127.0.0.1",
        port=0,
        gateway="",
        registration_token="",
        advertise_url="",
        backend="weights",
        models=(ModelSpec(MODEL, str(model_dir)),),
        queue_size=queue_size,
    )
    return WeightsBackend(config)


@pytest.fixture
async def loaded(tiny_model_dir: Path) -> AsyncIterator[WeightsBackend]:
    backend = backend_for(tiny_model_dir, queue_size=1)
    await backend.start()
    for _ in range(300):
        if backend.state[MODEL] == READY:
            break
        await asyncio.sleep(0.05)
    yield backend
    await backend.close()


def client_for(backend: WeightsBackend) -> httpx.AsyncClient:
    app = AgentApp(name="inproc", backend=backend, link=None)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://agent")


async def test_answers_503_while_the_model_loads(tiny_model_dir: Path) -> None:
    backend = backend_for(tiny_model_dir)  # never started: still loading
    async with client_for(backend) as client:
        answer = await client.post("/v1/chat/completions", json={"model": MODEL, "messages": HELLO})
        health = await client.get("/healthz")
    assert answer.status_code == 503 and answer.json()["error"]["code"] == "model_not_ready"
    assert answer.headers["retry-after"]
    assert health.status_code == 503 and health.json()["models"] == {MODEL: "loading"}


async def test_a_full_queue_refuses_with_503_and_retry_after(loaded: WeightsBackend) -> None:
    gate = threading.Event()
    loaded.models[MODEL].executor.submit(
        gate.wait
    )  # the model's thread is busy until the gate opens
    body = {"model": MODEL, "messages": HELLO, "temperature": 0, "max_tokens": 4}
    async with client_for(loaded) as client:
        admitted = [
            asyncio.ensure_future(client.post("/v1/chat/completions", json=body)) for _ in range(2)
        ]
        await asyncio.sleep(0.1)
        refused = await client.post("/v1/chat/completions", json=body)
        gate.set()
        answers = await asyncio.gather(*admitted)
    assert refused.status_code == 503 and refused.json()["error"]["code"] == "queue_full"
    assert refused.headers["retry-after"] == "1"
    assert [a.status_code for a in answers] == [200, 200]
    assert loaded.models[MODEL].pending == 0
