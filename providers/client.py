"""Pooled upstream HTTP: httpx's request/response API over one aiohttp-backed transport per origin.

Measured on this machine (bench/overhead.py, docs/architecture.md): httpx's native
pool falls to a few hundred requests/s at 16 concurrent requests, the aiohttp
transport holds thousands. We call the transport directly rather than through
`httpx.AsyncClient`: the client's cookie jar would carry one upstream's
Set-Cookie into other callers' requests, and redirects or auth flows have no
place on this path.
"""

from __future__ import annotations

import asyncio
import functools
import weakref
from urllib.parse import urlsplit

import aiohttp
import httpx
from django.conf import settings
from httpx_aiohttp import AiohttpTransport

from providers.wire.base import UpstreamRequest


@functools.lru_cache(maxsize=1024)
def _url(url: str) -> httpx.URL:
    """Parsed once per upstream URL (bounded: Gemini URLs carry the model name)."""
    return httpx.URL(url)


def timeouts() -> dict[str, float]:
    return {
        "connect": settings.UPSTREAM_CONNECT_TIMEOUT,
        "read": settings.UPSTREAM_READ_TIMEOUT,
        "write": settings.UPSTREAM_WRITE_TIMEOUT,
        "pool": settings.UPSTREAM_POOL_TIMEOUT,
    }


def _make_transport() -> httpx.AsyncBaseTransport:
    limit = settings.UPSTREAM_MAX_CONNECTIONS
    if settings.UPSTREAM_HTTP_TRANSPORT == "httpx":  # httpcore's native pool, kept to compare
        return httpx.AsyncHTTPTransport(
            limits=httpx.Limits(max_connections=limit, max_keepalive_connections=limit)
        )

    def session() -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=limit, limit_per_host=limit, keepalive_timeout=30, ttl_dns_cache=300
        )
        return aiohttp.ClientSession(connector=connector, auto_decompress=False)

    return AiohttpTransport(client=session)


class UpstreamPool:
    """One transport (and so one connection pool) per upstream origin, for one event loop."""

    def __init__(self) -> None:
        self._transports: dict[str, httpx.AsyncBaseTransport] = {}
        self._timeout = timeouts()

    def _transport(self, url: str) -> httpx.AsyncBaseTransport:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        transport = self._transports.get(origin)
        if transport is None:
            transport = self._transports[origin] = _make_transport()
        return transport

    async def send(self, req: UpstreamRequest) -> httpx.Response:
        """Send and return as soon as headers arrive; the caller reads and must `aclose()`."""
        request = httpx.Request(
            "POST", _url(req.url), headers=req.headers, content=req.body,
            extensions={"timeout": self._timeout},
        )
        return await self._transport(req.url).handle_async_request(request)

    async def get(self, url: str, headers: dict[str, str]) -> httpx.Response:
        request = httpx.Request("GET", url, headers=headers, extensions={"timeout": self._timeout})
        return await self._transport(url).handle_async_request(request)

    async def aclose(self) -> None:
        transports, self._transports = self._transports, {}
        for transport in transports.values():
            await transport.aclose()


_pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, UpstreamPool] = (
    weakref.WeakKeyDictionary()
)


def pool() -> UpstreamPool:
    """The pool of the running event loop, created on first use."""
    loop = asyncio.get_running_loop()
    current = _pools.get(loop)
    if current is None:
        current = _pools[loop] = UpstreamPool()
    return current


async def aclose_pool() -> None:
    current = _pools.pop(asyncio.get_running_loop(), None)
    if current is not None:
        await current.aclose()
