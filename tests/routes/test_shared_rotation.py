"""Two gateway processes on one database and one Redis continue one round-robin, not one each."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from tests.fakes.server import FakeUpstream
from tests.live import LiveGateway

REDIS_URL = "redis://127.0.0.1:6379/15"
SETUP = """
from governance.api.route_serializers import RouteInputSerializer
from governance.services.routes import route_create
from providers.models import Model, Provider
a = Provider.objects.create(name="a", type="openai", base_url="{a}", api_key="sk-a")
b = Provider.objects.create(name="b", type="openai", base_url="{b}", api_key="sk-b")
Model.objects.create(name="gpt-4o", provider=a)
Model.objects.create(name="b-gpt", provider=b, upstream_name="gpt-4o")
s = RouteInputSerializer(data={{"name": "shared", "mode": "auto", "config": {{
    "providerMode": "all", "selectedModels": ["gpt-4o"], "modelStrategy": "single"}}}})
s.is_valid(raise_exception=True)
route_create(clean=s.validated_data["clean"])
"""


@pytest.fixture
def pair(tmp_path: Path, _openai_server: FakeUpstream, _openai_backup_server: FakeUpstream) -> Iterator[list[LiveGateway]]:
    prefix = f"test-{uuid.uuid4().hex}"
    env = {"SQLITE_DB_PATH": str(tmp_path / "shared.db"), "REDIS_URL": REDIS_URL, "REDIS_KEY_PREFIX": prefix}
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    first = LiveGateway(tmp_path / "one", env).migrate()
    first.manage("shell", "-c", SETUP.format(a=_openai_server.url, b=_openai_backup_server.url))
    gateways = [first.start(), LiveGateway(tmp_path / "two", env).start()]
    yield gateways
    for gateway in gateways:
        gateway.stop()
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


def test_round_robin_continues_across_two_processes(pair) -> None:  # type: ignore[no-untyped-def]
    providers = []
    for i in range(6):
        response = httpx.post(f"{pair[i % 2].url}/v1/chat/completions", timeout=10, json={
            "model": "route/shared", "messages": [{"role": "user", "content": "hi"}]})
        assert response.status_code == 200, response.text
        providers.append(response.headers["x-switchyard-provider"])
    # one rotation: alternating processes still alternate providers (two private counters would
    # send every request of process one to "a" and every request of process two to "a" too)
    assert providers == ["a", "b", "a", "b", "a", "b"]
