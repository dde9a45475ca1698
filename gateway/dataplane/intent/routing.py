"""Intent routing inside the resolver: request or configured preferences, one classifier, ranked models."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from time import perf_counter
from typing import TYPE_CHECKING, Any

from django.conf import settings

from gateway.dataplane.errors import InvalidRequest
from gateway.dataplane.intent.base import Classifier, LocalClassifier, Match, Route
from gateway.dataplane.intent.factory import classifier_from_settings
from gateway.dataplane.intent.ranking import latency, rank, tracked_keys
from gateway.dataplane.metrics import INTENT_DECISIONS, INTENT_SECONDS
from governance.snapshot_preferences import DEFAULTS, PreferenceRoute, Preferences

if TYPE_CHECKING:
    from gateway.dataplane.resolver import IntentChoice
    from gateway.dataplane.validation import ChatRequest
    from governance.snapshot import Snapshot

log = logging.getLogger(__name__)

# ChatRequest.extras keys this module writes: the checked request preferences, the matched route.
REQUEST_ROUTES = "_routing_routes"
INLINE_LIMIT = 0.001  # classifications slower than 1 ms (moving average) leave the event loop


def preferences_of(snapshot: Snapshot) -> Preferences:
    return snapshot.preferences if isinstance(snapshot.preferences, Preferences) else DEFAULTS


def request_routes(request: ChatRequest, snapshot: Snapshot) -> tuple[PreferenceRoute, ...] | None:
    """The request's own `routing_preferences`, checked (400 naming the field); None when absent."""
    if REQUEST_ROUTES in request.extras:
        return request.extras[REQUEST_ROUTES]
    raw = request.extras.get("routing_preferences")
    routes = None
    if raw is not None:
        from governance.services.preferences import RoutingConfigError, check_preferences

        declared = preferences_of(snapshot).declared or None
        try:
            checked = check_preferences(raw, "routing_preferences", declared)
        except RoutingConfigError as exc:
            raise InvalidRequest(f"'{exc.field}' {exc.message}", param=exc.field) from None
        if not checked:
            raise InvalidRequest("'routing_preferences' must not be empty", param="routing_preferences")
        routes = tuple(
            PreferenceRoute(p["name"], p["description"], tuple(p["models"]), p["prefer"], tuple(p["examples"]))
            for p in checked if p["enabled"]
        )
    request.extras[REQUEST_ROUTES] = routes
    return routes


class IntentEngine:
    """The process's one classifier; local ones run inline while cheap, else on one worker thread."""

    def __init__(self) -> None:
        self._classifier: Classifier | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._cost = 0.0  # moving average of a local classification, seconds
        self._tracked_version: int | None = None

    @property
    def classifier(self) -> Classifier:
        if self._classifier is None:
            complete = llm_complete if settings.INTENT_CLASSIFIER == "llm" else None
            self._classifier = classifier_from_settings(
                settings.INTENT_CLASSIFIER, complete=complete,
                threshold=settings.INTENT_THRESHOLD, margin=settings.INTENT_MARGIN,
            )
            log.info("intent classifier: %s", self._classifier.name)
        return self._classifier

    def reset(self) -> None:
        """Forget the classifier and its threads (tests change INTENT_CLASSIFIER and INTENT_THREADS)."""
        self._classifier, self._cost, self._tracked_version = None, 0.0, None
        if self._pool is not None:
            self._pool.shutdown(wait=False)
            self._pool = None

    def _run(self, classifier: LocalClassifier, routes: tuple[Route, ...], messages: list[Any]) -> Match:
        started = perf_counter()
        match = classifier.classify(classifier.prepare(routes), messages)
        self._cost += 0.2 * (perf_counter() - started - self._cost)
        return match

    async def match(self, routes: tuple[Route, ...], messages: list[dict[str, Any]]) -> Match:
        classifier = self.classifier
        if isinstance(classifier, LocalClassifier):
            if classifier.name == "lexical" and self._cost <= INLINE_LIMIT:
                return self._run(classifier, routes, messages)
            if self._pool is None:
                # torch releases the GIL while it encodes, so each thread is a core's worth of decisions.
                self._pool = ThreadPoolExecutor(settings.INTENT_THREADS, thread_name_prefix="intent")
            return await asyncio.get_running_loop().run_in_executor(
                self._pool, self._run, classifier, routes, messages
            )
        try:
            return await classifier.aclassify(classifier.prepare(routes), messages)
        except Exception as exc:  # the router model failing must not fail the request
            log.warning("intent classifier %s failed, serving the request's model: %s", classifier.name, exc)
            return Match(None, 0.0)

    def track(self, snapshot: Snapshot) -> None:
        """Once per config version: the configured models are the latency keys kept."""
        if self._tracked_version != snapshot.version:
            self._tracked_version = snapshot.version
            names = [m for route in preferences_of(snapshot).routes for m in route.models]
            latency.track(tracked_keys(snapshot, names))

    async def warm(self, snapshot: Snapshot) -> None:
        """At startup: build the classifier and prepare the configured routes off the event loop."""
        self.track(snapshot)
        routes = classifier_routes(preferences_of(snapshot).routes)
        classifier = self.classifier
        if routes:
            await asyncio.to_thread(classifier.prepare, routes)


engine = IntentEngine()


def classifier_routes(routes: Sequence[PreferenceRoute]) -> tuple[Route, ...]:
    return tuple(Route(r.name, r.description, r.examples) for r in routes)


async def llm_complete(messages: list[dict[str, Any]]) -> str:
    """The `llm` classifier's call: INTENT_LLM_MODEL (else the config's default model) via the executor."""
    from gateway.dataplane import executor
    from gateway.dataplane.resolver import lookup
    from gateway.dataplane.state import snapshots
    from gateway.dataplane.validation import ChatRequest

    snapshot = await snapshots.get()
    name = settings.INTENT_LLM_MODEL or preferences_of(snapshot).default_model
    candidates, _ = lookup(snapshot, name) if name else ([], "")
    if not candidates:
        raise RuntimeError(f"INTENT_LLM_MODEL '{name}' is not routable")
    body = {"model": name, "messages": messages, "temperature": 0, "max_tokens": 32}
    request = ChatRequest(body, name, False, False, frozenset({"text"}), {})
    result = await asyncio.wait_for(executor.complete(request, candidates), settings.INTENT_LLM_TIMEOUT)
    content = result.body["choices"][0]["message"].get("content")
    return content if isinstance(content, str) else ""


async def intent_choice(
    snapshot: Snapshot, request: ChatRequest, headers: Mapping[str, str]
) -> IntentChoice | None:
    """The matched preference route and its ranked models; None: no preferences or no match."""
    from gateway.dataplane.resolver import IntentChoice

    routes = request_routes(request, snapshot)
    overridden = routes is not None
    if routes is None:
        routes = preferences_of(snapshot).routes
        engine.track(snapshot)
    if not routes:
        return None
    started = perf_counter()
    match = await engine.match(classifier_routes(routes), request.body["messages"])
    name = engine.classifier.name
    INTENT_SECONDS.labels(name).observe(perf_counter() - started)
    route = next((r for r in routes if r.name == match.route), None)
    label = "(none)" if route is None else "(request)" if overridden else route.name
    INTENT_DECISIONS.labels(name, label).inc()
    if route is None:
        return None
    return IntentChoice(route.name, rank(snapshot, route.models, route.prefer, request))
