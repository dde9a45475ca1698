"""A fake upstream on 127.0.0.1 (random port, real HTTP) that fails on demand.

Each wire format (tests/fakes/openai.py, anthropic.py, gemini.py) supplies a
`Wire` that builds its real answers, stream events and error bodies; this
module owns the server, the recorded requests and the failure behaviours.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

# Behaviours a test can queue with `fail_next`, consumed one per request:
#   "429", "500", "503"...  an error status with the wire's error body
#   "hang"                  never answer (longer than any test timeout)
#   "malformed"             200 with a body that is not the wire's JSON
#   "reset"                 close the connection without answering
#   "stream_cut"            (streams) send the first event, then drop the connection
#   "stream_error_first"    (streams) 200, then an error event before any content
#   "stream_error_mid"      (streams) first content event, then an error event
#   "empty_stream"          (streams) 200 and close with no events
#   "slow_stream"           (streams) 0.3 s between events
BEHAVIOURS = {
    "hang", "malformed", "reset", "stream_cut", "stream_error_first", "stream_error_mid",
    "empty_stream", "slow_stream",
}


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    query: dict[str, str]
    body: Any


class Rejected(Exception):
    """A request the real API would refuse: `Wire.check` answers it as (status, error body)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Wire:
    """What a fake needs to know about one wire format; subclasses fill it in."""

    routes: list[tuple[str, str]] = []  # (method, path pattern) served by `handle`
    # "stream_cut" / "stream_error_mid" act after the event at this index, which
    # must come after at least one content delta has been sent.
    cut_after: int = 1

    def check(self, request: web.Request, body: Any) -> tuple[int, Any] | None:
        """Refuse what the real API would: (status, JSON error body), or None to serve the request.

        Called once the request is recorded and before any queued behaviour, which a refused
        request does not use up."""
        return None

    def is_stream(self, request: web.Request, body: Any) -> bool:
        raise NotImplementedError

    def completion(self, body: Any, fake: FakeUpstream, request: web.Request) -> Any:
        raise NotImplementedError

    def stream_events(self, body: Any, fake: FakeUpstream, request: web.Request) -> list[bytes]:
        """Complete SSE events (each ending in a blank line), in order."""
        raise NotImplementedError

    def error_body(self, status: int, message: str) -> Any:
        raise NotImplementedError

    def error_event(self, message: str) -> bytes:
        raise NotImplementedError

    def extra_routes(self, fake: FakeUpstream) -> list[web.RouteDef]:
        return []


@dataclass
class FakeUpstream:
    wire: Wire
    reply: str = "Hello from the fake upstream"
    tool_call: dict[str, Any] | None = None  # {"name": ..., "arguments": {...}}: answer with a tool call
    usage: tuple[int, int] = (11, 7)
    requests: list[Recorded] = field(default_factory=list)
    abandoned: int = 0  # streams whose reader disconnected before the end
    _queue: deque[str] = field(default_factory=deque)
    url: str = ""

    def fail_next(self, *behaviours: str) -> None:
        self._queue.extend(behaviours)

    def reset(self) -> None:
        self._queue.clear()
        self.requests.clear()
        self.abandoned = 0
        self.reply = "Hello from the fake upstream"
        self.tool_call = None
        self.usage = (11, 7)

    # --- server ------------------------------------------------------------
    def start(self) -> FakeUpstream:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(self._serve(ready))
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    async def _serve(self, ready: threading.Event) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        for method, pattern in self.wire.routes:
            app.router.add_route(method, pattern, self._handle)
        app.add_routes(self.wire.extra_routes(self))
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.2)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        ready.set()

    def stop(self) -> None:
        async def shutdown() -> None:
            current = asyncio.current_task()
            for task in asyncio.all_tasks():
                if task is not current:
                    task.cancel()
            await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    # --- request handling ---------------------------------------------------
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            body = raw.decode("utf-8", "replace")
        self.requests.append(Recorded(request.path, dict(request.headers), dict(request.query), body))
        refusal = self.wire.check(request, body)
        if refusal is not None:
            status, error = refusal
            return web.json_response(error, status=status)
        behaviour = self._queue.popleft() if self._queue else "ok"
        stream = self.wire.is_stream(request, body)
        if behaviour.isdigit():
            status = int(behaviour)
            return web.json_response(self.wire.error_body(status, f"fake upstream error {status}"), status=status)
        if behaviour == "hang":
            await asyncio.sleep(3600)
        if behaviour == "reset":
            assert request.transport is not None
            request.transport.abort()
            return web.Response()
        if behaviour == "malformed":
            ctype = "text/event-stream" if stream else "application/json"
            return web.Response(body=b"{this is not json", content_type=ctype)
        if not stream:
            return web.json_response(self.wire.completion(body, self, request))
        return await self._stream(request, body, behaviour)

    async def _stream(self, request: web.Request, body: Any, behaviour: str) -> web.StreamResponse:
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        events = self.wire.stream_events(body, self, request)
        if behaviour == "empty_stream":
            await response.write_eof()
            return response
        if behaviour == "stream_error_first":
            await response.write(self.wire.error_event("overloaded before first token"))
            await response.write_eof()
            return response
        try:
            return await self._write_events(request, response, events, behaviour)
        except (ConnectionError, asyncio.CancelledError):
            self.abandoned += 1  # the client (the gateway) went away mid-stream
            raise

    async def _write_events(
        self, request: web.Request, response: web.StreamResponse, events: list[bytes], behaviour: str
    ) -> web.StreamResponse:
        for i, event in enumerate(events):
            await response.write(event)
            await asyncio.sleep(0.3 if behaviour == "slow_stream" else 0)
            if i == self.wire.cut_after and behaviour in ("stream_cut", "stream_error_mid"):
                await asyncio.sleep(0.05)  # let the content reach the client first
                if behaviour == "stream_error_mid":
                    await response.write(self.wire.error_event("upstream failed mid-stream"))
                    await response.write_eof()
                else:
                    assert request.transport is not None
                    request.transport.abort()
                return response
        await response.write_eof()
        return response
