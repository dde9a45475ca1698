"""Session-wide: a tiny model built once, a migrated database, one gateway and one agent.

Every weights agent pays for importing torch (seconds), so the session shares one; tests that
need a gateway that comes and goes start their own.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.agents_worker.agent_process import REGISTRATION_TOKEN, AgentProcess
from tests.agents_worker.tiny_model import build_tiny_model
from tests.live import LiveGateway

MODEL = "local_tiny"
GATEWAY_ENV = {"AGENT_REGISTRATION_TOKEN": REGISTRATION_TOKEN, "AGENT_HEARTBEAT_INTERVAL": "1"}


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("hf") / "tiny-gpt2")


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("template-db")
    LiveGateway(workdir, GATEWAY_ENV).migrate()
    return workdir / "gateway.db"


@pytest.fixture(scope="session")
def new_gateway(migrated_db: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Make a gateway (not started) on a fresh copy of the migrated database, on `port` if given."""

    def make(port: int | None = None) -> LiveGateway:
        gateway = LiveGateway(tmp_path_factory.mktemp("gw"), GATEWAY_ENV)
        shutil.copy(migrated_db, gateway.workdir / "gateway.db")
        gateway.migrated = True
        if port is not None:
            gateway.port, gateway.url = port, f"http://127.0.0.1:{port}"
        return gateway

    return make


def weights_agent_for(
    workdir: Path, model_dir: Path, gateway_url: str, name: str, *extra: str
) -> AgentProcess:
    return AgentProcess(
        workdir,
        "--name",
        name,
        "--gateway",
        gateway_url,
        "--registration-token",
        REGISTRATION_TOKEN,
        "--model",
        f"{MODEL}={model_dir}",
        "--retry-max-seconds",
        "0.5",
        *extra,
    )


@pytest.fixture(scope="session")
def live_gateway(new_gateway) -> Iterator[LiveGateway]:  # type: ignore[no-untyped-def]
    gateway = new_gateway().start()
    yield gateway
    gateway.stop()


@pytest.fixture(scope="session")
def weights_agent(tiny_model_dir: Path, live_gateway: LiveGateway) -> Iterator[AgentProcess]:
    """The tiny model as `local_tiny` (a directory) and `local_cached` (under HF_CACHE_DIR)."""
    agent = weights_agent_for(
        tiny_model_dir.parent,
        tiny_model_dir,
        live_gateway.url,
        "session-agent",
        "--model",
        f"local_cached={tiny_model_dir.name}",
        "--max-tokens",
        "16",
    ).start()
    yield agent
    agent.stop()
