"""A real Celery worker with embedded beat, on the real Redis, expires a silent agent; a heartbeat revives it."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import redis

from tests.agents.protocol import MODEL, SECRET, body
from tests.fakes.server import FakeUpstream
from tests.live import PYTHON, ROOT, LiveGateway

REDIS_URL = "redis://127.0.0.1:6379/15"


class Stack:
    def __init__(self, gateway: LiveGateway, worker: subprocess.Popen[bytes], prefix: str) -> None:
        self.gateway, self.worker, self.prefix = gateway, worker, prefix
        self.staff = {"Authorization": f"Token {gateway.manage('create_api_token', 'ops').stdout.strip()}"}

    def worker_output(self) -> str:
        return (self.gateway.workdir / "worker.out").read_text(errors="replace")[-4000:]

    def agent_status(self) -> str:
        response = httpx.get(f"{self.gateway.url}/api/governance/agents/local-agent", headers=self.staff)
        return response.json()["agent"]["status"]

    def listed(self) -> bool:
        data = httpx.get(f"{self.gateway.url}/v1/models").json()["data"]
        return MODEL in [m["id"] for m in data]

    def wait_for(self, check: Callable[[], bool], seconds: float, what: str) -> None:
        deadline = time.monotonic() + seconds
        while not check():
            if self.worker.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"{what} within {seconds} s; worker output:\n{self.worker_output()}")
            time.sleep(0.2)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)


@pytest.fixture
def stack(tmp_path: Any) -> Iterator[Stack]:
    prefix = f"test-agents-{uuid.uuid4().hex}"
    env = {
        "REDIS_URL": REDIS_URL, "REDIS_KEY_PREFIX": prefix, "AGENT_REGISTRATION_TOKEN": SECRET,
        "AGENT_HEARTBEAT_TIMEOUT": "2", "AGENT_HEARTBEAT_INTERVAL": "1", "OPENAI_REFRESH_SECONDS": "0",
    }
    gateway = LiveGateway(tmp_path, env).start()
    log = open(tmp_path / "worker.out", "wb")
    command = [
        PYTHON, "-m", "celery", "-A", "gateway", "worker", "-B", "--loglevel=info", "--pool=solo",
        "--without-mingle", "--without-gossip", "--without-heartbeat", f"--hostname={prefix}@%h",
        f"--schedule={tmp_path / 'beat-schedule'}",
    ]
    worker = subprocess.Popen(command, cwd=ROOT, env=gateway.env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    try:
        yield Stack(gateway, worker, prefix)
    finally:
        _stop(worker)
        gateway.stop()
        log.close()
        client = redis.Redis.from_url(REDIS_URL)
        leftovers = list(client.scan_iter(match=f"{prefix}*"))
        if leftovers:
            client.delete(*leftovers)
        assert not list(client.scan_iter(match=f"{prefix}*"))


def test_worker_beat_expires_a_silent_agent_and_a_heartbeat_revives_it(stack, fake_openai: FakeUpstream):
    url = stack.gateway.url
    response = httpx.post(f"{url}/register", json=body(endpoint=fake_openai.url),
                          headers={"Authorization": f"Bearer {SECRET}"})
    assert response.status_code == 201, response.text
    token = response.json()["token"]
    stack.wait_for(stack.listed, 5, "the agent's model was not listed")

    stack.wait_for(lambda: stack.agent_status() == "expired", 20, "the worker did not expire the agent")
    stack.wait_for(lambda: not stack.listed(), 3, "the expired agent's model was still listed")
    assert "agents.tasks.expire_agents" in stack.worker_output()

    response = httpx.post(f"{url}/heartbeat", json={"name": "local-agent"},
                          headers={"Authorization": f"Bearer {token}"})
    assert response.json() == {"status": "alive", "heartbeat_interval": 1}
    assert stack.agent_status() == "alive"
    stack.wait_for(stack.listed, 3, "the revived agent's model was not listed again")
    chat = httpx.post(f"{url}/v1/chat/completions", timeout=10,
                      json={"model": MODEL, "messages": [{"role": "user", "content": "hi"}]})
    assert chat.status_code == 200, chat.text
    assert chat.headers["x-switchyard-provider"] == "agent-local-agent"
