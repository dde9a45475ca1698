"""Wire-format adapters: pure translations between OpenAI chat and each upstream API, no I/O."""

from __future__ import annotations

from providers.wire.base import WireAdapter


def adapter_for(wire: str) -> WireAdapter:
    return ADAPTERS[wire]


def _load() -> dict[str, WireAdapter]:
    from providers.wire.anthropic import AnthropicAdapter
    from providers.wire.gemini import GeminiAdapter
    from providers.wire.openai import OpenAIAdapter

    return {a.wire: a for a in (OpenAIAdapter(), AnthropicAdapter(), GeminiAdapter())}


ADAPTERS: dict[str, WireAdapter] = _load()
