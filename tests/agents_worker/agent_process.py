"""Run `manage.py run_agent` as a real process for tests, like tests/live.py runs the gateway."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx

from tests.live import PYTHON, ROOT, free_port

REGISTRATION_TOKEN = "agent-reg-secret-7f3a"


class AgentProcess:
    def __init__(self, workdir: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.args = ["--port", str(self.port), *args]
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")},
            "DJANGO_SETTINGS_MODULE": "gateway.settings",
            "LOG_FILE": "",
            "HF_CACHE_DIR": str(workdir),
            **(env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, *, ready: bool = True, timeout: float = 30) -> AgentProcess:
        """Wait until /healthz answers: 200 (models loaded) if `ready`, else any status."""
        self.log = open(self.workdir / f"agent-{self.port}.out", "wb")
        self.process = subprocess.Popen(
            [PYTHON, "manage.py", "run_agent", *self.args],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            return self._wait(ready, timeout)
        except BaseException:
            self.stop()  # never leave a half-started agent behind
            raise

    def _wait(self, ready: bool, timeout: float) -> AgentProcess:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("agent exited:\n" + self.output())
            try:
                health = self.health()
            except httpx.TransportError:
                time.sleep(0.1)
                continue
            if not ready or health.status_code == 200:
                return self
            if health.json().get("errors"):
                raise RuntimeError(f"a model failed to load: {health.text}\n{self.output()}")
            time.sleep(0.1)
        raise RuntimeError("agent did not become ready:\n" + self.output())

    def health(self) -> httpx.Response:
        return httpx.get(f"{self.url}/healthz", timeout=2)

    def chat(self, **body: object) -> httpx.Response:
        return httpx.post(f"{self.url}/v1/chat/completions", json=body, timeout=30)

    def output(self) -> str:
        return (self.workdir / f"agent-{self.port}.out").read_text(errors="replace")

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.running():
            assert self.process is not None
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        self.log.close()


def wait_for_model(gateway_url: str, model: str, timeout: float = 20) -> None:
    """Until the gateway's /v1/models lists `model` (agent registered, snapshot caught up)."""
    deadline = time.monotonic() + timeout
    seen: object = None
    while time.monotonic() < deadline:
        try:
            seen = [
                m["id"] for m in httpx.get(f"{gateway_url}/v1/models", timeout=2).json()["data"]
            ]
            if model in seen:
                return
        except httpx.TransportError as exc:
            seen = exc
        time.sleep(0.2)
    raise AssertionError(f"{model} never appeared at {gateway_url}/v1/models (last saw {seen})")
