"""Shared Redis clients (sync for the control plane, asyncio for the data plane), created once."""

from __future__ import annotations

import functools

import redis
import redis.asyncio as aioredis
from django.conf import settings


@functools.cache
def sync_client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)


_async_clients: dict[int, aioredis.Redis] = {}


def async_client() -> aioredis.Redis:
    """One asyncio client per event loop (tests run several loops in one process)."""
    import asyncio

    loop_id = id(asyncio.get_running_loop())
    client = _async_clients.get(loop_id)
    if client is None:
        client = aioredis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2
        )
        _async_clients[loop_id] = client
    return client


async def aclose() -> None:
    """Close this loop's client (ASGI shutdown)."""
    import asyncio

    client = _async_clients.pop(id(asyncio.get_running_loop()), None)
    if client is not None:
        await client.aclose()
