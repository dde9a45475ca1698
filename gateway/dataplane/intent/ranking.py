"""Rank a matched route's models: live latency (moving average) and price, `prefer`, and the cost threshold."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from time import perf_counter
from typing import TYPE_CHECKING

from django.conf import settings

from gateway.dataplane.intent.conversation import message_text

if TYPE_CHECKING:
    from gateway.dataplane.resolver import Candidate
    from gateway.dataplane.validation import ChatRequest
    from governance.snapshot import Snapshot

LOCAL_TYPES = frozenset({"local", "huggingface"})  # agents register as `local` providers
CHARS_PER_TOKEN = 4


def model_key(provider: str, model: str) -> str:
    """Latency is kept per (provider, upstream model): `openai/gpt-4o`, `backup/gpt-4o`."""
    return f"{provider.lower()}/{model}"


class LatencyStats:
    """Exponential moving average of successful attempts' latency, for tracked keys only.

    Bounded: only the (provider, model) pairs the configured preferences name are tracked
    (`track` is called once per config version), never whatever traffic brings.
    """

    def __init__(self) -> None:
        self._ema: dict[str, float] = {}
        self._tracked: frozenset[str] = frozenset()

    def track(self, keys: Iterable[str]) -> None:
        self._tracked = frozenset(keys)
        self._ema = {k: v for k, v in self._ema.items() if k in self._tracked}

    def record(self, key: str, seconds: float) -> None:
        if key not in self._tracked:
            return
        previous = self._ema.get(key)
        alpha = settings.ROUTER_LATENCY_ALPHA
        self._ema[key] = seconds if previous is None else previous + alpha * (seconds - previous)

    def get(self, key: str) -> float | None:
        return self._ema.get(key)

    def reset(self) -> None:
        self._ema.clear()

    def __len__(self) -> int:
        return len(self._ema)


latency = LatencyStats()
_attempt_started: ContextVar[float] = ContextVar("attempt_started", default=0.0)


def attempt_started() -> None:
    """Mark the start of an upstream attempt (called by the executor as it sends)."""
    _attempt_started.set(perf_counter())


def attempt_finished(candidate: Candidate, outcome: str) -> None:
    """A successful attempt's latency (whole answer, or first chunk of a stream) feeds the average."""
    started = _attempt_started.get()
    if outcome == "ok" and started:
        latency.record(model_key(candidate.provider.name, candidate.model), perf_counter() - started)


@dataclass(slots=True)
class Option:
    name: str  # as the preference declares it
    key: str  # latency key; "" when the model resolves to nothing
    cost: float | None  # estimated USD for this request
    latency: float | None  # seconds
    local: bool


def estimate_tokens(request: ChatRequest) -> tuple[int, int]:
    """(prompt, completion) tokens: ~4 characters a token; `max_tokens` or a default for the answer."""
    chars = sum(len(message_text(m)) for m in request.body.get("messages", ()))
    body = request.body
    answer = body.get("max_completion_tokens") or body.get("max_tokens") or settings.ROUTER_DEFAULT_OUTPUT_TOKENS
    return max(1, chars // CHARS_PER_TOKEN), int(answer)


def _option(snapshot: Snapshot, name: str, tokens: tuple[int, int]) -> Option:
    from gateway.dataplane.resolver import lookup

    found, _ = lookup(snapshot, name)
    if not found:
        return Option(name, "", None, None, False)
    candidate = found[0]
    entry = candidate.entry
    cost = None
    if entry is not None and entry.input_price is not None and entry.output_price is not None:
        cost = (tokens[0] * entry.input_price + tokens[1] * entry.output_price) / 1_000_000
    key = model_key(candidate.provider.name, candidate.model)
    local = candidate.provider.type in LOCAL_TYPES or (entry is not None and entry.kind == "weight")
    return Option(name, key, cost, latency.get(key), local)


def tracked_keys(snapshot: Snapshot, names: Iterable[str]) -> set[str]:
    """Latency keys of the given model names, resolved on this snapshot."""
    return {key for name in names if (key := _option(snapshot, name, (0, 0)).key)}


def _by(options: list[Option], value: Callable[[Option], float | None]) -> list[Option]:
    """Options with data sorted by `value` (stable: declared order breaks ties), the rest last."""
    known = [o for o in options if value(o) is not None]
    return sorted(known, key=value) + [o for o in options if value(o) is None]  # type: ignore[arg-type]


def _balanced(options: list[Option]) -> list[Option]:
    """score = cost weight × cost/max cost + latency weight × latency/max latency (lower is better)."""
    wc, wl = settings.ROUTER_COST_WEIGHT, settings.ROUTER_LATENCY_WEIGHT
    max_cost = max((o.cost for o in options if o.cost is not None), default=0.0) or 1.0
    max_latency = max((o.latency for o in options if o.latency is not None), default=0.0) or 1.0

    def score(o: Option) -> float | None:
        if (wc and o.cost is None) or (wl and o.latency is None):
            return None
        return wc * (o.cost or 0.0) / max_cost + wl * (o.latency or 0.0) / max_latency

    return _by(options, score)


def _ordered(options: list[Option], prefer: str, rng: Callable[[], float]) -> list[Option]:
    if prefer == "cheapest":
        return _by(_by(options, lambda o: o.latency), lambda o: o.cost)  # latency breaks cost ties
    if prefer == "fastest":
        return _by(_by(options, lambda o: o.cost), lambda o: o.latency)
    if prefer == "random":
        return sorted(options, key=lambda _: rng())
    if prefer == "balanced":
        return _balanced(options)
    return list(options)


def rank(
    snapshot: Snapshot, models: tuple[str, ...], prefer: str, request: ChatRequest,
    rng: Callable[[], float] = random.random,
) -> tuple[str, ...]:
    """The route's models in serving order.

    Then ROUTER_COST_THRESHOLD: when the request would cost more than it on the first
    non-local model, a local model of the route (if any) goes first.
    """
    if len(models) < 2:
        return models
    tokens = estimate_tokens(request)
    options = [_option(snapshot, name, tokens) for name in models]
    ordered = _ordered(options, prefer, rng)
    local = next((o for o in ordered if o.local), None)
    if local is not None and ordered[0] is not local:
        remote = next((o for o in ordered if not o.local and o.cost is not None), None)
        if remote is not None and remote.cost > settings.ROUTER_COST_THRESHOLD:
            ordered.remove(local)
            ordered.insert(0, local)
    return tuple(o.name for o in ordered)
