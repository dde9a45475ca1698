"""Two gateway processes on one database: a config change made elsewhere reaches both within a second."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
import redis

from tests.fakes.server import FakeUpstream
from tests.live import LiveGateway

HI = [{"role": "user", "content": "hi"}]
RULE = """
from governance.models import RoutingRule
RoutingRule.objects.create(
    name="premium to backup", cel_expression='headers["x-tier"] == "premium"', priority=1,
    targets=[{"provider": "backup", "model": "gpt-4o", "weight": 1.0}],
)
"""


def _served_by(gateway: LiveGateway, headers: dict[str, str]) -> str:
    response = httpx.post(
        f"{gateway.url}/v1/chat/completions", headers=headers,
        json={"model": "gpt-4o", "messages": HI}, timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.headers["x-switchyard-provider"]


@pytest.fixture(params=["database", "redis"])
def pair(request, tmp_path, _openai_server: FakeUpstream, _openai_backup_server: FakeUpstream) -> Iterator[list[LiveGateway]]:  # type: ignore[no-untyped-def]
    env = {
        "SQLITE_DB_PATH": str(tmp_path / "shared.db"),
        "OPENAI_BASE_URL": _openai_server.url,
        "EXTERNAL_OPENAI_KEY": "sk-two",
    }
    if request.param == "redis":
        env["REDIS_URL"] = "redis://127.0.0.1:6379/15"
        env["REDIS_KEY_PREFIX"] = f"test-{uuid.uuid4().hex}"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = LiveGateway(tmp_path / "a", env).migrate()
    first.manage("add_model", "backup-gpt", "openai", _openai_backup_server.url, "api")
    first.manage("shell", "-c", "from providers.models import Provider; "
                 "Provider.objects.filter(name__startswith='openai-').update(name='backup')")
    gateways = [first.start(), LiveGateway(tmp_path / "b", env).start()]
    yield gateways
    for gateway in gateways:
        gateway.stop()
    if request.param == "redis":
        client = redis.Redis.from_url(env["REDIS_URL"])
        client.delete(f"{env['REDIS_KEY_PREFIX']}:config-version")


def test_rule_saved_elsewhere_reaches_both_processes_within_a_second(pair) -> None:  # type: ignore[no-untyped-def]
    premium = {"x-tier": "premium"}
    assert [_served_by(g, premium) for g in pair] == ["openai", "openai"]
    pair[0].manage("shell", "-c", RULE)
    env = pair[0].env
    if "REDIS_URL" in env:  # the new version was published where the processes poll
        published = redis.Redis.from_url(env["REDIS_URL"]).get(f"{env['REDIS_KEY_PREFIX']}:config-version")
        assert published is not None and int(published) >= 1
    time.sleep(1.0)
    assert [_served_by(g, premium) for g in pair] == ["backup", "backup"]
    assert [_served_by(g, {}) for g in pair] == ["openai", "openai"]
