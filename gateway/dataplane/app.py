"""The data-plane ASGI app: a fixed table of paths, each an async handler."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import orjson
from django.conf import settings
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)

from gateway.dataplane.chat import chat_completions
from gateway.dataplane.decision import routing_decision
from gateway.dataplane.errors import GatewayError
from gateway.dataplane.http import ClientGone, Receive, Request, Scope, Send, send_body, send_error
from gateway.dataplane.state import snapshots

log = logging.getLogger(__name__)

Handler = Callable[[Request, Send], Awaitable[None]]


class NotFound(GatewayError):
    status = 404
    type = "invalid_request_error"
    code = "not_found"


class MethodNotAllowed(GatewayError):
    status = 405
    type = "invalid_request_error"
    code = "method_not_allowed"


_models_cache: tuple[object, bytes] = (None, b"")


async def list_models(request: Request, send: Send) -> None:
    """GET /v1/models in OpenAI's list shape, serialised once per snapshot."""
    global _models_cache
    snapshot = await snapshots.get()
    if _models_cache[0] is not snapshot:
        data = [
            {"id": m.name, "object": "model", "created": m.created, "owned_by": m.provider}
            for m in snapshot.models.values()
            if (p := snapshot.provider(m.provider)) is not None and p.active
        ]
        data.append({"id": "dummy", "object": "model", "created": 0, "owned_by": "switchyard"})
        _models_cache = (snapshot, orjson.dumps({"object": "list", "data": data}))
    await send_body(send, 200, _models_cache[1], [(b"x-request-id", request.request_id.encode())])


def _registry() -> CollectorRegistry:
    """Several worker processes (PROMETHEUS_MULTIPROC_DIR set): aggregate their files."""
    if not settings.PROMETHEUS_MULTIPROC_DIR:
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


async def metrics(request: Request, send: Send) -> None:
    body = generate_latest(_registry())
    await send_body(send, 200, body, [], (b"content-type", CONTENT_TYPE_LATEST.encode()))


async def healthz(request: Request, send: Send) -> None:
    """Liveness and readiness: the config snapshot loads."""
    snapshot = await snapshots.get()
    await send_body(send, 200, orjson.dumps({"status": "ok", "config_version": snapshot.version}), [])


ROUTES: dict[str, tuple[str, Handler]] = {
    "/v1/chat/completions": ("POST", chat_completions),
    "/v1/models": ("GET", list_models),
    "/routing/v1/chat/completions": ("POST", routing_decision),
    "/metrics": ("GET", metrics),
    "/healthz": ("GET", healthz),
}


def handles(path: str) -> bool:
    """Paths served by the data plane rather than Django."""
    return path in ROUTES or path.startswith("/v1/") or path.startswith("/routing/")


async def dataplane(scope: Scope, receive: Receive, send: Send) -> None:
    request = Request(scope, receive)
    path = scope["path"].rstrip("/") or "/"
    route = ROUTES.get(path)
    headers = [(b"x-request-id", request.request_id.encode())]
    try:
        if route is None:
            raise NotFound(f"No route for {scope['method']} {scope['path']}")
        method, handler = route
        if scope["method"] != method and not (method == "GET" and scope["method"] == "HEAD"):
            raise MethodNotAllowed(f"Use {method} for {path}", headers={"allow": method})
        await handler(request, send)
    except ClientGone:
        return
    except GatewayError as error:
        await send_error(send, error, headers)
    except Exception:
        log.exception("unhandled error on %s (request %s)", path, request.request_id)
        await send_error(send, GatewayError("Internal error in the gateway"), headers)
