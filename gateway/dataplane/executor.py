"""Run a candidate chain: call each upstream in turn until one answers, streaming or not."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from gateway.dataplane.errors import (
    BadGateway,
    GatewayError,
    InvalidRequest,
    ProviderNotConfigured,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from gateway.dataplane.health import health
from gateway.dataplane.intent.ranking import attempt_finished, attempt_started
from gateway.dataplane.metrics import ATTEMPTS
from gateway.dataplane.resolver import Candidate
from gateway.dataplane.validation import ChatRequest
from providers.client import pool
from providers.wire import adapter_for
from providers.wire.base import (
    MalformedUpstream,
    StreamTranslator,
    Target,
    UnsupportedRequest,
    UpstreamError,
)
from providers.wire.sse import SSEDecoder

log = logging.getLogger(__name__)

# Statuses after which another candidate may well succeed. 400/413/422 describe
# the request itself, so they are relayed at once instead.
FAILOVER_STATUSES = frozenset({401, 403, 404, 408, 409, 429})
DONE = b"data: [DONE]\n\n"
# OpenAI-compatible upstreams known to honour `stream_options.include_usage`: their streams
# are metered even when the client did not ask for usage (the extra chunk is not forwarded).
STREAM_USAGE_TYPES = frozenset({"openai", "llm-d", "local", "huggingface", "grok"})


@dataclass(slots=True)
class Attempt:
    provider: str
    model: str
    outcome: str  # "ok" or the reason it failed


@dataclass(slots=True)
class Completion:
    candidate: Candidate
    body: dict[str, Any]
    attempts: list[Attempt]


@dataclass(slots=True)
class Stream:
    candidate: Candidate
    chunks: AsyncIterator[bytes]  # SSE-framed, ending with `data: [DONE]`
    attempts: list[Attempt] = field(default_factory=list)
    translator: StreamTranslator | None = None  # its final_usage() is known once chunks are done


def frame(payload: bytes) -> bytes:
    return b"data: " + payload + b"\n\n"


def error_frame(error: GatewayError) -> bytes:
    return frame(error.json())


def _from_upstream(exc: UpstreamError) -> GatewayError:
    return GatewayError(exc.message, status=exc.status, type=exc.type, code=exc.code, param=exc.param)


def _classify(exc: Exception, provider: str) -> tuple[GatewayError, bool]:
    """An attempt's exception → (the error to report, whether the next candidate may try)."""
    if isinstance(exc, UpstreamError):
        retry = exc.status >= 500 or exc.status in FAILOVER_STATUSES
        return _from_upstream(exc), retry
    if isinstance(exc, MalformedUpstream):
        return BadGateway(f"Provider '{provider}' sent a malformed answer: {exc}"), True
    if isinstance(exc, httpx.TimeoutException):
        return UpstreamTimeout(f"Provider '{provider}' timed out"), True
    if isinstance(exc, httpx.TransportError):
        return UpstreamUnavailable(f"Provider '{provider}' is unreachable: {exc or type(exc).__name__}"), True
    if isinstance(exc, UnsupportedRequest):
        return InvalidRequest(exc.message, param=exc.param), True
    if isinstance(exc, GatewayError):
        return exc, True
    raise exc


def _target(candidate: Candidate) -> Target:
    provider = candidate.provider
    if provider.missing_key:
        raise ProviderNotConfigured(
            f"Provider '{provider.name}' has no API key: set {provider.key_setting} "
            "or store a key on the provider"
        )
    if not provider.api_root:
        raise ProviderNotConfigured(f"Provider '{provider.name}' has no base URL configured")
    return Target(
        provider.api_root, provider.api_key, candidate.model,
        stream_usage=provider.type in STREAM_USAGE_TYPES,
    )


def _record(attempts: list[Attempt], candidate: Candidate, outcome: str, upstream: bool) -> None:
    attempts.append(Attempt(candidate.provider.name, candidate.model, outcome))
    ATTEMPTS.labels(candidate.provider.name, outcome).inc()
    attempt_finished(candidate, outcome)  # latency of a successful attempt, for intent ranking
    if upstream:
        if outcome == "ok":
            health.success(candidate.provider.name)
        else:
            health.failure(candidate.provider.name)


def _outcome(error: GatewayError) -> str:
    return error.code or str(error.status)


class _Failures:
    """What went wrong along one chain: decides whether to go on and what to report at the end."""

    def __init__(self, candidates: list[Candidate]) -> None:
        self.total = len(candidates)
        self.attempts: list[Attempt] = []
        self.errors: list[tuple[str, GatewayError]] = []

    def record(self, candidate: Candidate, exc: Exception, *, reached: bool) -> None:
        """Log one failed attempt; raise its error at once when no other candidate may help."""
        error, retry = _classify(exc, candidate.provider.name)
        _record(self.attempts, candidate, _outcome(error), upstream=reached or _is_upstream(exc))
        self.errors.append((candidate.provider.name, error))
        if not retry:
            raise error from None
        log.warning(
            "attempt %d/%d on %s failed: %s", len(self.errors), self.total, candidate.provider.name, error.message
        )

    def exhausted(self) -> GatewayError:
        """Every candidate failed: the last error's status, every attempt's reason in the message."""
        assert self.errors, "resolver returned no candidates"
        last = self.errors[-1][1]
        if len(self.errors) > 1:
            reasons = "; ".join(f"{name}: {error.message}" for name, error in self.errors)
            last.message = f"All {len(self.errors)} candidates failed. {reasons}"
        return last


async def _send(candidate: Candidate, request: ChatRequest, *, stream: bool) -> httpx.Response:
    attempt_started()
    adapter = adapter_for(candidate.provider.wire)
    upstream = adapter.chat_request(_target(candidate), request.body, stream=stream)
    upstream.headers.update(request.upstream_headers)
    response = await pool().send(upstream)
    if response.status_code >= 400:
        try:
            payload = await response.aread()
        finally:
            await response.aclose()
        raise adapter.error(response.status_code, payload)
    return response


async def complete(request: ChatRequest, candidates: list[Candidate]) -> Completion:
    """Non-streaming: the first candidate that answers well wins; errors move down the chain."""
    failures = _Failures(candidates)
    for candidate in candidates:
        reached = False
        try:
            response = await _send(candidate, request, stream=False)
            reached = True
            try:
                payload = await response.aread()
            finally:
                await response.aclose()
            body = adapter_for(candidate.provider.wire).chat_response(payload, model=candidate.model)
        except Exception as exc:  # noqa: BLE001 - classified by _Failures, unknown ones re-raised
            failures.record(candidate, exc, reached=reached)
            continue
        _record(failures.attempts, candidate, "ok", upstream=True)
        return Completion(candidate, body, failures.attempts)
    raise failures.exhausted()


def _is_upstream(exc: Exception) -> bool:
    """Did this failure come from the upstream (counts against its health)?"""
    return isinstance(exc, (UpstreamError, MalformedUpstream, httpx.TransportError))


async def _first_chunks(
    raw: AsyncIterator[bytes], decoder: SSEDecoder, translator: StreamTranslator
) -> tuple[list[bytes], bool]:
    """Read until the translator yields something; (payloads, whether the upstream already ended)."""
    async for data in raw:
        out = [p for event, text in decoder.feed(data) for p in translator.feed(event, text)]
        if out:
            return out, False
    out = [p for event, text in decoder.close() for p in translator.feed(event, text)]
    out += translator.finish()
    if not out:
        raise MalformedUpstream("stream ended without any chunk")
    return out, True


async def _relay(
    first: list[bytes],
    ended: bool,
    response: httpx.Response,
    raw: AsyncIterator[bytes],
    decoder: SSEDecoder,
    translator: StreamTranslator,
    candidate: Candidate,
) -> AsyncIterator[bytes]:
    """Yield framed chunks as they arrive; a break mid-way ends with an error event, then [DONE]."""
    try:
        for payload in first:
            yield frame(payload)
        if not ended:
            async for data in raw:
                for event, text in decoder.feed(data):
                    for payload in translator.feed(event, text):
                        yield frame(payload)
            for event, text in decoder.close():
                for payload in translator.feed(event, text):
                    yield frame(payload)
            for payload in translator.finish():
                yield frame(payload)
    except (UpstreamError, MalformedUpstream, httpx.TransportError) as exc:
        error, _ = _classify(exc, candidate.provider.name)
        health.failure(candidate.provider.name)
        log.warning("stream from %s broke after first byte: %s", candidate.provider.name, error.message)
        yield error_frame(error)
    finally:
        await response.aclose()
    yield DONE


async def open_stream(request: ChatRequest, candidates: list[Candidate]) -> Stream:
    """Streaming: fail over until a candidate produces its first chunk; after that we are committed."""
    failures = _Failures(candidates)
    for candidate in candidates:
        response: httpx.Response | None = None
        try:
            response = await _send(candidate, request, stream=True)
            translator = adapter_for(candidate.provider.wire).stream(
                model=candidate.model, include_usage=request.include_usage
            )
            decoder = SSEDecoder()
            raw = response.aiter_raw()
            first, ended = await _first_chunks(raw, decoder, translator)
        except Exception as exc:  # noqa: BLE001 - classified by _Failures, unknown ones re-raised
            if response is not None:
                await response.aclose()
            failures.record(candidate, exc, reached=response is not None)
            continue
        _record(failures.attempts, candidate, "ok", upstream=True)
        chunks = _relay(first, ended, response, raw, decoder, translator, candidate)
        return Stream(candidate, chunks, failures.attempts, translator)
    raise failures.exhausted()
