"""Routing-preference reads: the config row (or its defaults), declared models, who uses a model."""

from __future__ import annotations

from django.db.models import QuerySet

from governance.models import RoutingConfig, RoutingPreference


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
