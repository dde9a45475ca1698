"""Routing-preference reads: the config row (or its defaults), declared models, who uses a model, a try."""

from __future__ import annotations

from time import perf_counter
from typing import Any

from asgiref.sync import async_to_sync
from django.db.models import QuerySet

from governance.config_version import read_version
from governance.models import RoutingConfig, RoutingPreference
from governance.snapshot import compile_snapshot


def routing_config_get() -> RoutingConfig:
    """The stored config row, or an unsaved one holding the defaults when nothing was loaded yet."""
    return RoutingConfig.objects.filter(pk=1).first() or RoutingConfig(pk=1)


def declared_models(config: RoutingConfig | None = None) -> frozenset[str]:
    """Lower-cased models of model_providers: the only ones a preference may name."""
    config = config or routing_config_get()
    return frozenset(str(p.get("model", "")).lower() for p in config.model_providers or ())


def preference_list(*, enabled_only: bool = False) -> QuerySet[RoutingPreference]:
    rows = RoutingPreference.objects.all()
    return rows.filter(enabled=True) if enabled_only else rows


def preferences_naming(models: frozenset[str]) -> dict[str, list[str]]:
    """Preference name → the given (lower-cased) models it names: what a config change would orphan."""
    found: dict[str, list[str]] = {}
    for preference in RoutingPreference.objects.all():
        used = [m for m in preference.models if str(m).lower() in models]
        if used:
            found[preference.name] = used
    return found


def preference_try(*, text: str) -> dict[str, Any]:
    """Which enabled preference a user message matches, with every route's score: the admin's try page.

    Runs this process's own classifier (INTENT_CLASSIFIER) on a freshly compiled snapshot, as
    the data plane would, without calling any model (an `llm` classifier does call its router).
    """
    from gateway.dataplane.intent.routing import classifier_routes, engine, preferences_of

    routes = preferences_of(compile_snapshot(read_version())).routes
    if not routes:
        return {"error": "No enabled routing preference: add one first."}
    started = perf_counter()
    match = async_to_sync(engine.match)(classifier_routes(routes), [{"role": "user", "content": text}])
    elapsed = perf_counter() - started
    matched = next((route for route in routes if route.name == match.route), None)
    return {
        "classifier": engine.classifier.name,
        "route": matched.name if matched else None,
        "models": list(matched.models) if matched else [],
        "scores": sorted(({"route": name, "score": round(score, 3)} for name, score in match.scores.items()),
                         key=lambda row: -row["score"]),
        "ms": round(elapsed * 1000, 2),
    }
