"""Proxy backend: relay to an OpenAI-compatible server on this machine (vLLM, llama.cpp, Ollama)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson

from agents.worker.backend import READY, Backend
from agents.worker.config import AgentConfig
from gateway.dataplane.errors import BadGateway, GatewayError, UpstreamTimeout, UpstreamUnavailable
from gateway.dataplane.executor import DONE, error_frame, frame
from gateway.dataplane.validation import ChatRequest
from providers.client import UpstreamPool
from providers.wire.base import MalformedUpstream, Target, UpstreamError
from providers.wire.openai import OpenAIAdapter
from providers.wire.sse import SSEDecoder

_adapter = OpenAIAdapter()


def api_root(upstream: str) -> str:
    root = upstream.rstrip("/")
    return root if root.endswith("/v1") else root + "/v1"


def as_gateway_error(exc: Exception, upstream: str) -> GatewayError:
    """The upstream's failure, with its status kept, in OpenAI's error shape."""
    if isinstance(exc, UpstreamError):
        return GatewayError(
            exc.message, status=exc.status, type=exc.type, code=exc.code, param=exc.param
        )
    if isinstance(exc, MalformedUpstream):
        return BadGateway(f"The upstream at {upstream} sent a malformed answer: {exc}")
    # Not connecting at all (aiohttp's transport reports a refusal as a connect timeout) is
    # "unreachable"; only a server that accepted the request and then went quiet is a timeout.
    if isinstance(exc, httpx.TimeoutException) and not isinstance(exc, httpx.ConnectTimeout):
        return UpstreamTimeout(f"The upstream at {upstream} timed out")
    return UpstreamUnavailable(
        f"The upstream at {upstream} is unreachable: {exc or type(exc).__name__}"
    )


class ProxyBackend(Backend):
    """Every model is ready at once: the upstream's own errors are relayed as they come."""

    def __init__(self, config: AgentConfig) -> None:
        super().__init__([m.name for m in config.models])
        self.upstream = config.upstream
        self.root = api_root(config.upstream)
        self.api_key = config.upstream_api_key
        self.sources = {m.name: m.source for m in config.models}
        self.pool = UpstreamPool()  # one pooled transport, settings' explicit timeouts
        self.state = dict.fromkeys(self.names, READY)

    async def close(self) -> None:
        await self.pool.aclose()

    async def _send(self, chat: ChatRequest, *, stream: bool) -> httpx.Response:
        target = Target(self.root, self.api_key, self.sources[chat.model])
        try:
            response = await self.pool.send(_adapter.chat_request(target, chat.body, stream=stream))
        except httpx.TransportError as exc:
            raise as_gateway_error(exc, self.upstream) from None
        if response.status_code >= 400:
            try:
                payload = await response.aread()
            finally:
                await response.aclose()
            raise as_gateway_error(_adapter.error(response.status_code, payload), self.upstream)
        return response

    async def complete(self, chat: ChatRequest) -> dict[str, Any]:
        self.check(chat.model)
        response = await self._send(chat, stream=False)
        try:
            answer = _adapter.chat_response(await response.aread(), model=chat.model)
        except (MalformedUpstream, UpstreamError, httpx.TransportError) as exc:
            raise as_gateway_error(exc, self.upstream) from None
        finally:
            await response.aclose()
        answer["model"] = chat.model
        return answer

    async def open_stream(self, chat: ChatRequest) -> AsyncIterator[bytes]:
        self.check(chat.model)
        return self._relay(chat.model, await self._send(chat, stream=True))

    async def _relay(self, model: str, response: httpx.Response) -> AsyncIterator[bytes]:
        """Event by event as they arrive, under the name the caller asked for."""
        decoder = SSEDecoder()
        try:
            async for data in response.aiter_raw():
                for _, text in decoder.feed(data):
                    yield self._reframe(text, model)
            for _, text in decoder.close():
                yield self._reframe(text, model)
        except httpx.TransportError as exc:
            yield error_frame(as_gateway_error(exc, self.upstream))
        finally:
            await response.aclose()

    @staticmethod
    def _reframe(text: str, model: str) -> bytes:
        if text == "[DONE]":
            return DONE
        try:
            obj = orjson.loads(text)
        except orjson.JSONDecodeError:
            return frame(text.encode())  # not ours to judge: the gateway's reader reports it
        if isinstance(obj, dict) and "model" in obj:
            obj["model"] = model
        return frame(orjson.dumps(obj))
