"""POST /v1/chat/completions: parse, resolve, execute, answer."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from time import perf_counter
from typing import Any

import orjson
from django.conf import settings

from gateway.dataplane import executor, placeholder, ratelimit
from gateway.dataplane.errors import GatewayError, InvalidApiKey
from gateway.dataplane.http import Headers, Request, Send, send_body, send_error, send_stream
from gateway.dataplane.metrics import FAILOVERS, LATENCY, REQUESTS, TOKENS
from gateway.dataplane.intent.decision import affinity_header, decide, pin
from gateway.dataplane.resolver import ANONYMOUS, Candidate
from gateway.dataplane.state import snapshots
from gateway.dataplane.validation import parse_chat_request
from governance.cel import Caller
from governance.keys import bearer_digest
from governance.snapshot import Snapshot

access = logging.getLogger("switchyard.access")


def _headers(request: Request, provider: str = "", model: str = "", route: str = "") -> Headers:
    headers = [
        (b"x-request-id", request.request_id.encode()),
        (b"x-trace-id", request.trace.trace_id.encode()),
        (b"traceparent", request.trace.traceparent.encode()),
    ]
    if provider:
        headers.append((b"x-switchyard-provider", provider.encode()))
    if model:
        headers.append((b"x-switchyard-model", model.encode()))
    if route:
        headers.append((b"x-switchyard-route", route.encode()))
    return headers


def identify(snapshot: Snapshot, headers: dict[str, str]) -> Caller:
    """The caller behind `Authorization: Bearer <virtual key>`; anonymous when keys are optional."""
    digest = bearer_digest(headers.get("authorization", ""))
    if digest is None:
        if settings.VIRTUAL_KEYS_REQUIRED:
            raise InvalidApiKey("A virtual key is required: send 'Authorization: Bearer <key>'")
        return ANONYMOUS
    caller = snapshot.keys.get(digest)
    if caller is not None:
        return caller
    if digest in snapshot.revoked_keys or settings.VIRTUAL_KEYS_REQUIRED:
        raise InvalidApiKey("Invalid or revoked virtual key")
    return ANONYMOUS  # keys optional: any other bearer (e.g. an SDK placeholder) is anonymous


def _count_tokens(candidate: Candidate, usage: Any) -> None:
    if isinstance(usage, dict):
        for kind in ("prompt_tokens", "completion_tokens"):
            value = usage.get(kind)
            if isinstance(value, int) and value > 0:
                TOKENS.labels(candidate.provider.name, candidate.label, kind).inc(value)


async def chat_completions(request: Request, send: Send) -> None:
    started = perf_counter()
    rid = request.request_id
    provider = model = route = "-"
    preference: str | None = None
    status, stream = 200, False
    try:
        chat = parse_chat_request(await request.body())
        chat.upstream_headers["traceparent"] = request.trace.traceparent
        stream = chat.stream
        snapshot = await snapshots.get()
        caller = identify(snapshot, request.headers)
        await ratelimit.check(caller.key_id)
        decision = await decide(snapshot, chat, caller, request.headers)  # affinity, then resolve
        resolution = decision.resolution
        route, preference = resolution.route, decision.route
        if resolution.placeholder:
            provider, model = "placeholder", chat.model
            headers = _headers(request, provider, model, resolution.route)
            if stream:
                chunks = placeholder.chunks(chat.model, chat.include_usage)
                await send_stream(send, request.receive, _framed(chunks), headers)
            else:
                await send_body(send, 200, orjson.dumps(placeholder.completion(chat.model)), headers)
            return
        candidates = decision.candidates
        result: executor.Stream | executor.Completion
        if stream:
            result = await executor.open_stream(chat, candidates)
        else:
            result = await executor.complete(chat, candidates)
        used = result.candidate
        provider, model = used.provider.name, used.model
        if len(result.attempts) > 1:
            FAILOVERS.inc()
        await pin(decision, snapshot, used)  # a fresh decision is pinned once an upstream answered
        headers = _headers(request, provider, model, resolution.route) + affinity_header(decision)
        if isinstance(result, executor.Stream):
            if not await send_stream(send, request.receive, result.chunks, headers):
                status = 499
            if result.translator is not None:
                _count_tokens(used, result.translator.final_usage())
        else:
            _count_tokens(used, result.body.get("usage"))
            await send_body(send, 200, orjson.dumps(result.body), headers)
        REQUESTS.labels(provider, used.label, str(status)).inc()
    except GatewayError as error:
        status = error.status
        REQUESTS.labels(provider, "-", str(status)).inc()
        await send_error(send, error, _headers(request))
    finally:
        elapsed = perf_counter() - started
        LATENCY.labels(provider, "true" if stream else "false").observe(elapsed)
        access.info(
            "chat id=%s trace=%s status=%s provider=%s model=%s stream=%s route=%s preference=%s ms=%.1f",
            rid, request.trace.trace_id, status, provider, model, stream, route,
            orjson.dumps(preference).decode(), elapsed * 1000,  # quoted: a request may name its own
        )


async def _framed(payloads: list[bytes]) -> AsyncIterator[bytes]:
    for payload in payloads:
        yield executor.frame(payload)
    yield executor.DONE
