"""Model affinity: pin on first answer, pinned later, TTL, LRU eviction, Redis shared by two processes."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from gateway.dataplane.intent import affinity
from gateway.dataplane.intent.affinity import MemoryPins, Pin, RedisPins
from tests.fakes.server import FakeUpstream
from tests.intent_routing.conftest import CHAT, CODE, CONFIG, ask, sample
from tests.live import LiveGateway

REDIS = "redis://127.0.0.1:6379/15"
PIN = Pin("code generation", ("gpt-4o", "gpt-4o-mini"))


@pytest.mark.django_db(transaction=True)
async def test_first_request_pins_and_later_ones_skip_routing(gateway, routed) -> None:  # type: ignore[no-untyped-def]
    primary, backup = routed
    session = {"x-model-affinity": "agent-1"}
    first = await gateway.post("/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": ask(CODE)}, headers=session)
    assert first.headers["x-switchyard-affinity"] == "new"
    assert first.headers["x-switchyard-provider"] == "primary"
    # A greeting would route to the backup; the pinned session stays on the code route's model.
    later = await gateway.post("/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": ask(CHAT)}, headers=session)
    assert later.headers["x-switchyard-affinity"] == "pinned"
    assert later.headers["x-switchyard-provider"] == "primary"
    assert later.headers["x-switchyard-route"] == "affinity"
    decision = (await gateway.post("/routing/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": ask(CHAT)},
                                   headers=session)).json()
    assert decision["models"] == ["gpt-4o", "gpt-4o-mini"] and decision["route"] == "code generation"
    assert decision["session_id"] == "agent-1" and decision["pinned"] is True


@pytest.mark.django_db(transaction=True)
async def test_metrics_count_pinned_and_freshly_routed_sessions(gateway, routed) -> None:  # type: ignore[no-untyped-def]
    name, session = "switchyard_affinity_requests_total", {"x-model-affinity": f"m-{uuid.uuid4()}"}
    before = (await gateway.get("/metrics")).text
    for _ in range(3):
        await gateway.post("/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": ask(CODE)}, headers=session)
    after = (await gateway.get("/metrics")).text
    assert sample(after, name, outcome="routed") == sample(before, name, outcome="routed") + 1
    assert sample(after, name, outcome="pinned") == sample(before, name, outcome="pinned") + 2


@pytest.mark.django_db(transaction=True)
async def test_decision_endpoint_pins_at_decision_time(gateway, routed) -> None:  # type: ignore[no-untyped-def]
    session = {"x-model-affinity": "s-2"}
    body = {"model": "gpt-4o-mini", "messages": ask(CHAT)}
    first = (await gateway.post("/routing/v1/chat/completions", json=body, headers=session)).json()
    assert first["pinned"] is False and first["session_id"] == "s-2" and first["route"] == "general questions"
    body["messages"] = ask(CODE)
    second = (await gateway.post("/routing/v1/chat/completions", json=body, headers=session)).json()
    assert second["pinned"] is True and second["route"] == "general questions"
    assert second["models"] == ["gpt-4o-mini"]


@pytest.mark.django_db(transaction=True)
async def test_failed_answer_is_not_pinned(gateway, routed) -> None:  # type: ignore[no-untyped-def]
    primary, backup = routed
    primary.fail_next("500")
    backup.fail_next("500")
    session = {"x-model-affinity": "s-3"}
    failed = await gateway.post("/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": ask(CODE)}, headers=session)
    assert failed.status_code == 500
    assert len(affinity.memory_pins) == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("value", ["", "a" * 129, "bad id", "semi;colon"])
async def test_invalid_affinity_header_is_refused(gateway, routed, value) -> None:  # type: ignore[no-untyped-def]
    response = await gateway.post("/routing/v1/chat/completions", headers={"x-model-affinity": value},
                                  json={"model": "gpt-4o-mini", "messages": ask(CODE)})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "X-Model-Affinity"


async def test_memory_pin_expires_after_its_ttl(monkeypatch) -> None:
    pins, now = MemoryPins(), [1000.0]
    monkeypatch.setattr(affinity, "monotonic", lambda: now[0])
    await pins.put("s", PIN, 600, 10)
    now[0] += 599
    assert await pins.get("s", 600, 10) == PIN
    now[0] += 2
    assert await pins.get("s", 600, 10) is None


async def test_memory_pins_evict_the_least_recently_used() -> None:
    pins = MemoryPins()
    await pins.put("a", PIN, 600, 2)
    await pins.put("b", PIN, 600, 2)
    await pins.get("a", 600, 2)  # a is now the most recently used
    await pins.put("c", PIN, 600, 2)
    assert await pins.get("b", 600, 2) is None
    assert await pins.get("a", 600, 2) == PIN and await pins.get("c", 600, 2) == PIN


@pytest.fixture
def redis_prefix(settings) -> Iterator[str]:  # type: ignore[no-untyped-def]
    settings.REDIS_URL = REDIS
    settings.REDIS_KEY_PREFIX = f"test-{uuid.uuid4().hex}"
    yield settings.REDIS_KEY_PREFIX
    client = redis.Redis.from_url(REDIS)
    keys = list(client.scan_iter(f"{settings.REDIS_KEY_PREFIX}:*"))
    if keys:
        client.delete(*keys)


async def test_redis_pins_expire_and_evict_the_least_recently_used(redis_prefix) -> None:
    from gateway.redis import aclose

    pins = RedisPins()
    try:
        await pins.put("a", PIN, 1, 2)
        await pins.put("b", PIN, 600, 2)
        assert await pins.get("a", 1, 2) == PIN
        await pins.put("c", PIN, 600, 2)  # evicts b: a was used more recently
        assert await pins.get("b", 600, 2) is None
        assert await pins.get("c", 600, 2) == PIN
        await asyncio.sleep(1.1)
        assert await pins.get("a", 1, 2) is None  # its TTL ran out
        assert redis.Redis.from_url(REDIS).zcard(f"{redis_prefix}:affinity:lru") == 1
    finally:
        await aclose()


@pytest.fixture
def pair(tmp_path: Path, _openai_server: FakeUpstream, redis_prefix: str) -> Iterator[list[LiveGateway]]:
    config = tmp_path / "routing.yaml"
    config.write_text(CONFIG.replace("primary/", "openai/").replace("backup/", "openai/"))
    env = {
        "SQLITE_DB_PATH": str(tmp_path / "shared.db"), "OPENAI_BASE_URL": _openai_server.url,
        "EXTERNAL_OPENAI_KEY": "sk-two", "REDIS_URL": REDIS, "REDIS_KEY_PREFIX": redis_prefix,
        "ROUTING_CONFIG_FILE": str(config), "INTENT_CLASSIFIER": "lexical",
    }
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    gateways = [LiveGateway(tmp_path / "a", env).start(), LiveGateway(tmp_path / "b", env).start()]
    yield gateways
    for gateway in gateways:
        gateway.stop()


def test_two_processes_share_pins_through_redis(pair) -> None:  # type: ignore[no-untyped-def]
    first, second = pair
    session = {"x-model-affinity": f"shared-{uuid.uuid4().hex[:8]}"}
    pinned = httpx.post(f"{first.url}/v1/chat/completions", headers=session, timeout=10,
                        json={"model": "gpt-4o-mini", "messages": ask(CODE)})
    assert pinned.headers["x-switchyard-affinity"] == "new"
    assert pinned.headers["x-switchyard-model"] == "gpt-4o"
    later = httpx.post(f"{second.url}/routing/v1/chat/completions", headers=session, timeout=10,
                       json={"model": "gpt-4o-mini", "messages": ask(CHAT)}).json()
    assert later["pinned"] is True and later["route"] == "code generation"
    assert later["models"][0] == "openai/gpt-4o"
