"""POST /routing/v1/chat/completions: the routing decision (steps 1-5) without calling any model."""

from __future__ import annotations

import logging
from time import perf_counter
from typing import Any

import orjson

from gateway.dataplane import ratelimit
from gateway.dataplane.chat import _headers, identify
from gateway.dataplane.errors import GatewayError
from gateway.dataplane.http import Request, Send, send_body, send_error
from gateway.dataplane.intent.decision import decide, pin
from gateway.dataplane.state import snapshots
from gateway.dataplane.validation import parse_chat_request

access = logging.getLogger("switchyard.access")


async def routing_decision(request: Request, send: Send) -> None:
    started = perf_counter()
    status, route = 200, None
    try:
        chat = parse_chat_request(await request.body())
        snapshot = await snapshots.get()
        caller = identify(snapshot, request.headers)
        await ratelimit.check(caller.key_id)
        decision = await decide(snapshot, chat, caller, request.headers)
        await pin(decision, snapshot)  # the decision endpoint pins at decision time
        route = decision.route
        body: dict[str, Any] = {"models": decision.models, "route": route, "trace_id": request.trace.trace_id}
        if decision.session:
            body["session_id"] = decision.session
            body["pinned"] = decision.pinned
        await send_body(send, 200, orjson.dumps(body), _headers(request))
    except GatewayError as error:
        status = error.status
        await send_error(send, error, _headers(request))
    finally:
        access.info(
            "decision id=%s trace=%s status=%s route=%s ms=%.1f",
            request.request_id, request.trace.trace_id, status, route, (perf_counter() - started) * 1000,
        )
