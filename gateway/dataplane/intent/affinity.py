"""Model affinity: `X-Model-Affinity` pins a routing decision, in Redis (shared) or a bounded in-process LRU."""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from dataclasses import dataclass
from time import monotonic, time
from typing import Any

import orjson
from django.conf import settings

from gateway.dataplane.errors import InvalidRequest

log = logging.getLogger(__name__)

HEADER = "x-model-affinity"
_SAFE = re.compile(r"^[A-Za-z0-9._:@+=-]{1,128}$")


@dataclass(frozen=True, slots=True)
class Pin:
    route: str | None  # the matched preference route, or None
    models: tuple[str, ...]  # in serving order

    def dumps(self) -> bytes:
        return orjson.dumps({"route": self.route, "models": self.models})

    @classmethod
    def loads(cls, raw: bytes) -> Pin:
        data = orjson.loads(raw)
        return cls(data.get("route"), tuple(data.get("models") or ()))


def affinity_id(headers: dict[str, str] | Any) -> str:
    """The session id of `X-Model-Affinity`, "" without the header; 400 when it is not 1-128 safe chars."""
    raw = headers.get(HEADER)
    if raw is None:
        return ""
    value = raw.strip()
    if not _SAFE.match(value):
        raise InvalidRequest(
            "'X-Model-Affinity' must be 1-128 characters: letters, digits and . _ : @ + = -",
            param="X-Model-Affinity",
        )
    return value


class MemoryPins:
    """One process: an LRU of (expiry, pin), trimmed to `max_entries` on every write."""

    def __init__(self) -> None:
        self._items: OrderedDict[str, tuple[float, Pin]] = OrderedDict()

    async def get(self, session: str, ttl: int, max_entries: int) -> Pin | None:
        item = self._items.get(session)
        if item is None:
            return None
        if item[0] <= monotonic():
            del self._items[session]
            return None
        self._items.move_to_end(session)
        return item[1]

    async def put(self, session: str, pin: Pin, ttl: int, max_entries: int) -> None:
        self._items[session] = (monotonic() + ttl, pin)
        self._items.move_to_end(session)
        while len(self._items) > max_entries:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


# KEYS: pin key, LRU sorted set (member: pin key, score: last use). ARGV: now, [value, ttl, max].
_GET = """
local value = redis.call('GET', KEYS[1])
if value then redis.call('ZADD', KEYS[2], 'XX', ARGV[1], KEYS[1]) else redis.call('ZREM', KEYS[2], KEYS[1]) end
return value
"""
_PUT = """
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[3]))
redis.call('ZADD', KEYS[2], ARGV[1], KEYS[1])
local excess = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[4])
if excess > 0 then
  local oldest = redis.call('ZRANGE', KEYS[2], 0, excess - 1)
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, excess - 1)
  redis.call('DEL', unpack(oldest))
end
redis.call('EXPIRE', KEYS[2], ARGV[3])
"""


class RedisPins:
    """Shared by every gateway process: pins expire by TTL; a sorted set of last uses evicts the LRU.

    Each operation is one Lua script (atomic). A Redis error loses affinity for that request,
    never the request itself.
    """

    def _keys(self, session: str) -> list[str]:
        prefix = f"{settings.REDIS_KEY_PREFIX}:affinity"
        return [f"{prefix}:pin:{session}", f"{prefix}:lru"]

    async def get(self, session: str, ttl: int, max_entries: int) -> Pin | None:
        from gateway.redis import async_client

        try:
            raw = await async_client().eval(_GET, 2, *self._keys(session), time())
        except Exception as exc:
            log.warning("affinity: Redis unreachable, routing afresh: %s", exc)
            return None
        return Pin.loads(raw) if raw else None

    async def put(self, session: str, pin: Pin, ttl: int, max_entries: int) -> None:
        from gateway.redis import async_client

        try:
            await async_client().eval(_PUT, 2, *self._keys(session), time(), pin.dumps(), ttl, max_entries)
        except Exception as exc:
            log.warning("affinity: could not pin session in Redis: %s", exc)


memory_pins = MemoryPins()
redis_pins = RedisPins()


def pins() -> MemoryPins | RedisPins:
    return redis_pins if settings.REDIS_URL else memory_pins
