"""The production compose file and image, checked without a Docker engine (none runs in CI)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.live import ROOT

COMPOSE = ROOT / "docker-compose.yml"
LONG_RUNNING = ("postgres", "redis", "gateway", "lb", "worker", "beat", "agent")
APP = ("migrate", "gateway", "worker", "beat")


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())["services"]


def command(service: dict[str, Any]) -> str:
    cmd = service.get("command", "")
    return " ".join(cmd) if isinstance(cmd, list) else cmd


def test_every_service_of_the_stack_is_there_with_a_health_check(services: dict[str, Any]) -> None:
    assert set(LONG_RUNNING) | {"migrate"} <= set(services)
    for name in LONG_RUNNING:
        test = services[name].get("healthcheck", {}).get("test")
        assert test and test != ["NONE"], f"{name} has no health check"


def test_every_service_the_readme_names_is_there_with_a_health_check(services: dict[str, Any]) -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Production stack", 1)[1].split("\n## ", 1)[0]
    named = {line.split("`")[1] for line in section.splitlines() if line.startswith("| `")}
    assert named, "the README's Production stack table lists no service"
    for name in named:
        assert name in services, f"README names {name}, docker-compose.yml lacks it"
        if name != "migrate":  # a one-shot job: done is its health
            assert services[name].get("healthcheck", {}).get("test"), f"{name} has no health check"


def test_services_start_in_order_once_their_dependencies_are_healthy(
    services: dict[str, Any],
) -> None:
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("gateway", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["redis"]["condition"] == "service_healthy"
    assert services["agent"]["depends_on"]["gateway"]["condition"] == "service_healthy"
    assert services["lb"]["depends_on"]["gateway"]["condition"] == "service_healthy"


def test_app_services_get_database_redis_and_the_registration_secret(
    services: dict[str, Any],
) -> None:
    for name in APP:
        env = services[name]["environment"]
        assert (
            env["DATABASE_URL"].startswith("postgres://")
            and "@postgres:5432/" in env["DATABASE_URL"]
        )
        assert env["REDIS_URL"].startswith("redis://redis:6379")
        assert env["AGENT_REGISTRATION_TOKEN"].startswith("${AGENT_REGISTRATION_TOKEN:?")
    assert services["agent"]["environment"]["AGENT_REGISTRATION_TOKEN"].startswith(
        "${AGENT_REGISTRATION_TOKEN:?"
    )


def test_gateway_runs_two_asgi_workers_sharing_metrics_on_tmpfs(services: dict[str, Any]) -> None:
    gateway = services["gateway"]
    assert "uvicorn gateway.asgi:application" in command(gateway) and "--workers 2" in command(
        gateway
    )
    assert gateway["environment"]["PROMETHEUS_MULTIPROC_DIR"] in gateway["tmpfs"]
    assert "ports" not in gateway  # replicas scale behind `lb`, the one published address
    assert services["lb"]["ports"]


def test_celery_worker_and_beat_run_the_gateway_app(services: dict[str, Any]) -> None:
    assert command(services["worker"]).startswith("celery -A gateway worker")
    assert command(services["beat"]).startswith("celery -A gateway beat")


def test_agent_serves_weights_from_a_mounted_model_directory(services: dict[str, Any]) -> None:
    agent = services["agent"]
    cmd = command(agent)
    assert (
        "manage.py run_agent" in cmd
        and "--backend=weights" in cmd
        and "--gateway=http://gateway:8000" in cmd
    )
    cache = agent["environment"]["HF_CACHE_DIR"]
    assert any(volume.rsplit(":", 2)[1] == cache for volume in agent["volumes"])
    assert agent["build"]["args"]["EXTRAS"] == "agent"


def test_agent_extra_pins_the_cpu_torch_and_the_image_uses_the_cpu_index() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert "torch==2.13.0" in extras["agent"]
    assert any(req.startswith("transformers") for req in extras["agent"])
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "ARG EXTRAS" in dockerfile and "download.pytorch.org/whl/cpu" in dockerfile


def test_docker_compose_accepts_the_file(tmp_path: Path) -> None:
    """Debian's docker-compose 1.29 validates without an engine; the YAML checks run anyway."""
    binary = shutil.which("docker-compose")
    assert binary, "Debian's docker-compose is needed here: scripts/system-packages installs it"
    shutil.copy(COMPOSE, tmp_path / "docker-compose.yml")
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")  # the documented first step
    env = {k: v for k, v in os.environ.items() if k != "AGENT_REGISTRATION_TOKEN"}
    run = [binary, "-f", str(tmp_path / "docker-compose.yml"), "config", "-q"]
    ok = subprocess.run(
        run, env={**env, "AGENT_REGISTRATION_TOKEN": "s3cret"}, capture_output=True, text=True
    )
    assert ok.returncode == 0, ok.stderr
    missing = subprocess.run(run, env=env, capture_output=True, text=True)
    assert missing.returncode != 0 and "AGENT_REGISTRATION_TOKEN" in missing.stderr
