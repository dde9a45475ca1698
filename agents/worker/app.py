"""The agent's ASGI app: /v1/chat/completions, /v1/models, /healthz; gateway link in lifespan."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson

from agents.worker.backend import READY, Backend
from agents.worker.link import GatewayLink
from gateway.dataplane.errors import GatewayError
from gateway.dataplane.http import (
    ClientGone,
    Headers,
    Receive,
    Request,
    Scope,
    Send,
    send_body,
    send_error,
    send_stream,
)
from gateway.dataplane.validation import parse_chat_request

log = logging.getLogger(__name__)


class RouteError(GatewayError):
    status = 404
    type = "invalid_request_error"
    code = "not_found"


class AgentApp:
    """No framework: three routes, errors in OpenAI's shape, no Django on the request path."""

    def __init__(self, *, name: str, backend: Backend, link: GatewayLink | None) -> None:
        self.name = name
        self.backend = backend
        self.link = link
        self._link_task: asyncio.Task[None] | None = None
        self.routes = {
            "/v1/chat/completions": ("POST", self.chat),
            "/v1/models": ("GET", self.models),
            "/healthz": ("GET", self.healthz),
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.lifespan(receive, send)
        elif scope["type"] == "http":
            await self.http(scope, receive, send)

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        headers: Headers = [(b"x-request-id", request.request_id.encode())]
        path = scope["path"].rstrip("/") or "/"
        try:
            if path not in self.routes:
                raise RouteError(f"No route for {scope['method']} {scope['path']}")
            method, handler = self.routes[path]
            if scope["method"] != method:
                raise RouteError(
                    f"Use {method} for {path}",
                    status=405,
                    code="method_not_allowed",
                    headers={"allow": method},
                )
            await handler(request, send, headers)
        except ClientGone:
            return
        except GatewayError as error:
            await send_error(send, error, headers)
        except Exception:
            log.exception("unhandled error on %s (request %s)", path, request.request_id)
            await send_error(send, GatewayError("Internal error in the agent"), headers)

    async def chat(self, request: Request, send: Send, headers: Headers) -> None:
        chat = parse_chat_request(await request.body())
        if chat.stream:
            chunks = await self.backend.open_stream(chat)
            await send_stream(send, request.receive, chunks, headers)
        else:
            answer = await self.backend.complete(chat)
            await send_body(send, 200, orjson.dumps(answer), headers)

    async def models(self, request: Request, send: Send, headers: Headers) -> None:
        data = [
            {"id": name, "object": "model", "created": 0, "owned_by": self.name, "status": state}
            for name, state in self.backend.state.items()
        ]
        await send_body(send, 200, orjson.dumps({"object": "list", "data": data}), headers)

    async def healthz(self, request: Request, send: Send, headers: Headers) -> None:
        """Ready (200) once every model has loaded; 503 with the details until then."""
        states = self.backend.state
        ready = all(state == READY for state in states.values())
        body: dict[str, Any] = {
            "status": "ok" if ready else "unavailable",
            "name": self.name,
            "models": states,
        }
        if self.backend.errors:
            body["errors"] = self.backend.errors
        if self.link is not None:
            link = self.link.state
            body["gateway"] = {
                "url": self.link.base,
                "registered": link.registered,
                "last_heartbeat": link.last_heartbeat,
                "last_error": link.last_error,
            }
        await send_body(send, 200 if ready else 503, orjson.dumps(body), headers)

    async def lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await self.backend.start()
                if self.link is not None:
                    self._link_task = asyncio.create_task(self.link.run(), name="gateway-link")
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._link_task is not None:
                    self._link_task.cancel()
                    await asyncio.gather(self._link_task, return_exceptions=True)
                    await self.link.aclose()  # type: ignore[union-attr]
                await self.backend.close()
                await send({"type": "lifespan.shutdown.complete"})
                return
