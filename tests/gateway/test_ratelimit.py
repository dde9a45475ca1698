"""Per-key limits: RATE_LIMIT_REQUESTS per minute, 429 with Retry-After, shared through Redis."""

from __future__ import annotations

import uuid

import pytest
import redis

from governance.keys import generate_key
from governance.models import VirtualKey

pytestmark = pytest.mark.django_db(transaction=True)

BODY = {"model": "dummy", "messages": [{"role": "user", "content": "hi"}]}


def _key(name: str) -> tuple[VirtualKey, dict[str, str]]:
    secret, prefix, digest = generate_key()
    key = VirtualKey.objects.create(name=name, key_hash=digest, key_prefix=prefix)
    return key, {"authorization": f"Bearer {secret}"}


@pytest.fixture
def limited(settings):  # type: ignore[no-untyped-def]
    settings.RATE_LIMIT_REQUESTS = 3
    return _key("tight"), _key("other")


async def test_key_over_its_limit_gets_429_with_retry_after(gateway, limited) -> None:  # type: ignore[no-untyped-def]
    (_, headers), _ = limited
    statuses = [(await gateway.post("/v1/chat/completions", json=BODY, headers=headers)).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = await gateway.post("/v1/chat/completions", json=BODY, headers=headers)
    assert refused.json()["error"]["code"] == "rate_limit_exceeded"
    assert 1 <= int(refused.headers["retry-after"]) <= 60


async def test_one_key_at_its_limit_does_not_limit_another(gateway, limited) -> None:  # type: ignore[no-untyped-def]
    (_, tight), (_, other) = limited
    for _ in range(4):
        await gateway.post("/v1/chat/completions", json=BODY, headers=tight)
    assert (await gateway.post("/v1/chat/completions", json=BODY, headers=other)).status_code == 200


async def test_anonymous_callers_are_not_limited(gateway, limited) -> None:  # type: ignore[no-untyped-def]
    statuses = {(await gateway.post("/v1/chat/completions", json=BODY)).status_code for _ in range(5)}
    assert statuses == {200}


async def test_counts_live_in_redis_so_every_process_shares_them(gateway, limited, settings) -> None:  # type: ignore[no-untyped-def]
    settings.REDIS_URL = "redis://127.0.0.1:6379/15"
    settings.REDIS_KEY_PREFIX = f"test-{uuid.uuid4().hex}"
    (key, headers), _ = limited
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        for _ in range(2):
            await gateway.post("/v1/chat/completions", json=BODY, headers=headers)
        names = client.keys(f"{settings.REDIS_KEY_PREFIX}:ratelimit:{key.id}:*")
        assert len(names) == 1 and int(client.get(names[0])) == 2
        assert client.ttl(names[0]) > 0  # the window's counter expires on its own
        client.incrby(names[0], 1)  # another gateway process served one more
        assert (await gateway.post("/v1/chat/completions", json=BODY, headers=headers)).status_code == 429
    finally:
        for name in client.keys(f"{settings.REDIS_KEY_PREFIX}:*"):
            client.delete(name)
        from gateway.redis import aclose

        await aclose()
