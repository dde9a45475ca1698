"""`route/<name>` requests: routes in auto, specific and multi mode (route-configuration.md).

Every rotation (a `cycle` over the selected models, round-robin over providers or over a node's
models) reads one counter per route, moved once per request: Redis INCR when REDIS_URL is set,
so all gateway processes continue one rotation, else a counter in this process (one per route).
A route never yields a provider that is switched off or whose circuit is open.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, TypeVar

from django.conf import settings
from redis.exceptions import RedisError

from gateway.dataplane.errors import ModelNotFound, ModelUnavailable
from gateway.dataplane.health import health
from governance.snapshot_routes import CompiledRoute, Offer

if TYPE_CHECKING:
    from gateway.dataplane.resolver import Candidate, Resolution
    from gateway.dataplane.validation import ChatRequest
    from governance.snapshot import Snapshot

log = logging.getLogger(__name__)
T = TypeVar("T")
HINT_HEADER = "x-switchyard-model-hint"
COUNTER_TTL_SECONDS = 7 * 24 * 3600  # a route idle this long restarts its rotation


class Rotation:
    """Request counters per route: shared through Redis when configured, else in this process."""

    def __init__(self) -> None:
        self._local: dict[int, int] = {}

    def key(self, route_id: int) -> str:
        return f"{settings.REDIS_KEY_PREFIX}:route-rotation:{route_id}"

    async def peek(self, route_id: int) -> int:
        """The position the next request would get, without moving the rotation (simulations)."""
        if settings.REDIS_URL:
            from gateway.redis import async_client

            try:
                return int(await async_client().get(self.key(route_id)) or 0)
            except (RedisError, OSError):
                pass
        return self._local.get(route_id, 0)

    async def next(self, route_id: int, live: Mapping[str, CompiledRoute]) -> int:
        """This request's position (0, 1, 2...) in the route's rotation."""
        if settings.REDIS_URL:
            from gateway.redis import async_client

            try:
                async with async_client().pipeline(transaction=False) as pipe:
                    pipe.incr(self.key(route_id))
                    pipe.expire(self.key(route_id), COUNTER_TTL_SECONDS)
                    value, _ = await pipe.execute()
                return int(value) - 1
            except (RedisError, OSError) as exc:  # routing goes on; the rotation is local meanwhile
                log.warning("route rotation counter unavailable in Redis (%s); using this process's", exc)
        if route_id not in self._local and len(self._local) >= len(live):
            ids = {route.id for route in live.values()}  # drop deleted routes': one counter per route
            self._local = {k: v for k, v in self._local.items() if k in ids}
        position = self._local.get(route_id, 0)
        self._local[route_id] = position + 1
        return position

    def reset(self) -> None:
        self._local.clear()


rotation = Rotation()


def _rotated(items: list[T], position: int) -> list[T]:
    if not items:
        return items
    k = position % len(items)
    return items[k:] + items[:k]


def _hinted(offers: tuple[Offer, ...], model: str, hint: str) -> bool:
    return model.lower() == hint or any(hint in (o.model.lower(), o.upstream.lower()) for o in offers)


class _Chain:
    """Builds one route's candidate chain, noting what it skipped and why."""

    def __init__(self, snapshot: Snapshot, route: CompiledRoute, resolution: Resolution) -> None:
        self.snapshot, self.route, self.resolution = snapshot, route, resolution

    def usable(self, provider: str, label: str) -> bool:
        entry = self.snapshot.provider(provider)
        why = ("unknown provider" if entry is None else "provider switched off" if not entry.active
               else "circuit open" if not health.available(entry.name) else "")
        if why:
            self.resolution.skipped.append((label, why))
        return not why

    def add(self, offer: Offer) -> None:
        from gateway.dataplane.resolver import Candidate

        entry = self.snapshot.provider(offer.provider)
        assert entry is not None  # checked by usable()
        candidate: Candidate = Candidate(entry, offer.upstream, self.snapshot.model(offer.model))
        if candidate not in self.resolution.candidates:
            self.resolution.candidates.append(candidate)

    def from_config(self, hint: str, position: int) -> None:
        """Selected models: hint, else `cycle` position, first; the others follow as failover."""
        route = self.route
        models = _rotated(list(route.models), position) if route.strategy == "cycle" else list(route.models)
        hinted = [m for m in models if hint and _hinted(route.offers[m.lower()], m, hint)]
        models = hinted[:1] + [m for m in models if m not in hinted[:1]]
        turn = position // max(len(route.models), 1)  # how often this model came up before
        for model in models:
            offers = route.offers[model.lower()]
            if not offers:
                self.resolution.skipped.append((model, "no enabled model row serves it"))
            eligible = [o for o in offers if self.usable(o.provider, f"{o.provider}/{model}")]
            for offer in _rotated(eligible, turn) if route.provider_mode == "all" else eligible:
                self.add(offer)

    def from_nodes(self, hint: str, position: int) -> None:
        """Nodes by priority; round-robin rotates a node's models, failover keeps their order."""
        for node in self.route.nodes:
            if not self.usable(node.provider, f"{node.provider} (node {node.id})"):
                continue
            offers = list(node.offers)
            for offer in _rotated(offers, position) if node.strategy == "round-robin" else offers:
                self.add(offer)
        if hint:
            chain = self.resolution.candidates
            chain.sort(key=lambda c: hint not in (c.model.lower(), c.label.lower()))


def _unavailable(route: CompiledRoute, resolution: Resolution) -> ModelUnavailable:
    why = "; ".join(f"{what}: {reason}" for what, reason in resolution.skipped) or "no model"
    return ModelUnavailable(f"Route '{route.name}' has no available provider now ({why})", param="model")


async def route_resolution(
    snapshot: Snapshot, request: ChatRequest, name: str, headers: Mapping[str, str],
    *, simulate: bool = False,
) -> Resolution | None:
    """The candidate chain of route `name` (its name or slug), or None when no such route exists.

    A simulation reads the rotation without moving it.
    """
    from gateway.dataplane.resolver import Resolution

    route = snapshot.routes.get(name.strip().lower())
    if route is None:
        return None
    if not route.active:
        raise ModelNotFound(f"Route '{route.name}' is disabled", param="model")
    hint = str(headers.get(HINT_HEADER, "")).strip().lower()
    position = 0
    if route.rotates:
        position = await (rotation.peek(route.id) if simulate else rotation.next(route.id, snapshot.routes))
    resolution = Resolution(route="route")
    chain = _Chain(snapshot, route, resolution)
    if route.models:
        if route.provider_mode != "all" and not chain.usable(route.provider, route.provider or "provider"):
            raise ModelUnavailable(
                f"Route '{route.name}' uses only provider '{route.provider}', which is not available "
                f"now ({resolution.skipped[-1][1]})", param="model",
            )
        chain.from_config(hint, position)
    else:
        chain.from_nodes(hint, position)
    if not resolution.candidates:
        raise _unavailable(route, resolution)
    return resolution
