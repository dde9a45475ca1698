"""Run the gateway as a real server process (uvicorn, as the README runs it) for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveGateway:
    """One uvicorn process on its own SQLite file; `manage()` runs commands against the same DB."""

    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.workdir = workdir
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")},
            "DJANGO_SETTINGS_MODULE": "gateway.settings",
            "SQLITE_DB_PATH": str(workdir / "gateway.db"),
            "LOG_FILE": str(workdir / "router.log"),
            "CONFIG_VERSION_CHECK_SECONDS": "0.2",
            **env,
        }
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def manage(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [PYTHON, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True,
            timeout=60, check=True,
        )

    def migrate(self) -> LiveGateway:
        self.manage("migrate", "--noinput", "-v0")
        self.migrated = True
        return self

    def start(self) -> LiveGateway:
        if not getattr(self, "migrated", False):
            self.migrate()
        command = [
            PYTHON, "-m", "uvicorn", "gateway.asgi:application", "--host", "127.0.0.1",
            "--port", str(self.port), "--loop", "uvloop", "--http", "httptools",
            "--no-access-log", "--lifespan", "on", "--log-level", "warning",
        ]
        self.log = open(self.workdir / "server.out", "wb")
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(self.output())
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("gateway did not start:\n" + self.output())

    def output(self) -> str:
        return (self.workdir / "server.out").read_text(errors="replace")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        self.log.close()
