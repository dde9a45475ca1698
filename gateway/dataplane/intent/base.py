"""Route, Match and the Classifier protocol shared by every intent matcher, plus the prepared-set cache."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class Route:
    """A routing preference as the classifier sees it: what the spec gives, plus optional examples."""

    name: str
    description: str
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class Match:
    """The decision: `route` is None when nothing is close enough (serve the request's own model)."""

    route: str | None
    score: float
    scores: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Prepared:
    """A route set made ready for one classifier (indexes, embeddings); immutable and shareable."""

    routes: tuple[Route, ...]
    data: Any = None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(route.name for route in self.routes)


@runtime_checkable
class Classifier(Protocol):
    """Everything the gateway needs: prepare a route set once, then classify conversations against it."""

    name: str

    def prepare(self, routes: Sequence[Route]) -> Prepared: ...

    async def aclassify(self, prepared: Prepared, messages: list[dict[str, Any]]) -> Match: ...


class PreparedCache:
    """Bounded LRU of prepared route sets keyed by the routes themselves (config version or request set)."""

    def __init__(self, maxsize: int = 64) -> None:
        self.maxsize = maxsize
        self._items: OrderedDict[tuple[Route, ...], Prepared] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get_or_build(
        self, routes: Sequence[Route], build: Callable[[tuple[Route, ...]], Prepared]
    ) -> Prepared:
        key = tuple(routes)
        with self._lock:
            prepared = self._items.get(key)
            if prepared is not None:
                self._items.move_to_end(key)
                self.hits += 1
                return prepared
            self.misses += 1
        # Built outside the lock: two racing builds of one set are harmless, a held lock is not.
        prepared = build(key)
        with self._lock:
            self._items[key] = prepared
            self._items.move_to_end(key)
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)
        return prepared

    def __len__(self) -> int:
        return len(self._items)


def validate_routes(routes: Sequence[Route]) -> tuple[Route, ...]:
    """Reject what no classifier can use: an empty set or duplicate names."""
    if not routes:
        raise ValueError("at least one route is required")
    names = [route.name for route in routes]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"duplicate route names: {', '.join(duplicates)}")
    return tuple(routes)


class LocalClassifier:
    """Base for in-process matchers: synchronous `classify`, cached `prepare`, and an async wrapper."""

    name = "local"

    def __init__(self, *, cache_size: int = 64) -> None:
        self.cache = PreparedCache(cache_size)

    def prepare(self, routes: Sequence[Route]) -> Prepared:
        return self.cache.get_or_build(validate_routes(routes), self._build)

    def _build(self, routes: tuple[Route, ...]) -> Prepared:
        raise NotImplementedError

    def classify(self, prepared: Prepared, messages: list[dict[str, Any]]) -> Match:
        raise NotImplementedError

    async def aclassify(self, prepared: Prepared, messages: list[dict[str, Any]]) -> Match:
        # A few milliseconds of CPU: cheaper inline than a hop to a thread pool.
        return self.classify(prepared, messages)
