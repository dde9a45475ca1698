"""Minimal ASGI request/response helpers for the data plane (no framework on the hot path)."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

from django.conf import settings

from gateway.dataplane.errors import GatewayError
from gateway.dataplane.trace import trace_from

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Mapping[str, Any]], Awaitable[None]]  # ASGI servers take any mapping
Headers = list[tuple[bytes, bytes]]

JSON = (b"content-type", b"application/json")
SSE_HEADERS: Headers = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class ClientGone(Exception):
    """The client disconnected before we finished reading its request."""


class PayloadTooLarge(GatewayError):
    status = 413
    type = "invalid_request_error"
    code = "request_too_large"


class Request:
    """What a handler needs from the ASGI scope: headers (lower-cased), body, id."""

    __slots__ = ("scope", "receive", "headers", "request_id", "trace")

    def __init__(self, scope: Scope, receive: Receive) -> None:
        self.scope = scope
        self.receive = receive
        self.headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        incoming = self.headers.get("x-request-id", "")
        self.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        self.trace = trace_from(self.headers)

    async def body(self) -> bytes:
        limit = settings.MAX_REQUEST_BYTES
        parts: list[bytes] = []
        size = 0
        while True:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                raise ClientGone
            part = message.get("body", b"")
            size += len(part)
            if size > limit:
                raise PayloadTooLarge(f"Request body exceeds {limit} bytes")
            parts.append(part)
            if not message.get("more_body"):
                return parts[0] if len(parts) == 1 else b"".join(parts)


async def send_body(send: Send, status: int, body: bytes, headers: Headers, content_type: tuple[bytes, bytes] = JSON) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [content_type, (b"content-length", str(len(body)).encode()), *headers],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def send_error(send: Send, error: GatewayError, headers: Headers) -> None:
    extra = [(k.encode(), v.encode()) for k, v in error.headers.items()]
    await send_body(send, error.status, error.json(), headers + extra)


async def _wait_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def send_stream(send: Send, receive: Receive, chunks: AsyncIterator[bytes], headers: Headers) -> bool:
    """Forward chunks as they come; stop (and close the upstream) if the client goes away.

    Returns True when the whole stream was delivered.
    """
    gone = asyncio.ensure_future(_wait_disconnect(receive))
    try:
        await send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS + headers})
        async for data in chunks:
            if gone.done():
                return False
            await send({"type": "http.response.body", "body": data, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return True
    finally:
        gone.cancel()
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()
