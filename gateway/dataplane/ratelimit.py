"""Per-virtual-key request limits: RATE_LIMIT_REQUESTS per minute, shared through Redis when configured."""

from __future__ import annotations

import time

from django.conf import settings

from gateway.dataplane.errors import GatewayError

WINDOW = 60  # seconds


class RateLimited(GatewayError):
    status = 429
    type = "rate_limit_error"
    code = "rate_limit_exceeded"


class _LocalWindows:
    """In-process fixed windows: one counter per key for the current minute (old windows dropped)."""

    def __init__(self) -> None:
        self._window = 0
        self._counts: dict[str, int] = {}

    def hit(self, key: str, window: int) -> int:
        if window != self._window:
            self._window, self._counts = window, {}
        count = self._counts.get(key, 0) + 1
        self._counts[key] = count
        return count


_local = _LocalWindows()


def reset() -> None:
    """Forget the in-process counts (tests)."""
    global _local
    _local = _LocalWindows()


async def _count(key: str, window: int) -> int:
    if not settings.REDIS_URL:
        return _local.hit(key, window)
    from gateway.redis import async_client

    name = f"{settings.REDIS_KEY_PREFIX}:ratelimit:{key}:{window}"
    async with async_client().pipeline(transaction=True) as pipe:
        pipe.incr(name)  # queued, not sent: a pipeline buffers until execute()
        pipe.expire(name, WINDOW * 2)
        count, _ = await pipe.execute()
    return int(count)


async def check(key_id: str | None) -> None:
    """Count one request for this key; RateLimited (429 with Retry-After) past the limit.

    Anonymous callers are not limited: require virtual keys (VIRTUAL_KEYS_REQUIRED) to
    enforce limits on everyone. RATE_LIMIT_REQUESTS=0 turns limits off.
    """
    limit = settings.RATE_LIMIT_REQUESTS
    if not key_id or limit <= 0:
        return
    now = time.time()
    window = int(now // WINDOW)
    if await _count(key_id, window) > limit:
        retry_after = max(1, int((window + 1) * WINDOW - now + 0.999))
        raise RateLimited(
            f"Rate limit of {limit} requests per minute reached for this key; retry in {retry_after} s",
            headers={"retry-after": str(retry_after)},
        )
