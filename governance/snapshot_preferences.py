"""Compile the configured routing preferences (and session settings) for the snapshot."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PreferenceRoute:
    name: str
    description: str
    models: tuple[str, ...]
    prefer: str = "none"
    examples: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Preferences:
    """What the data plane needs: the enabled routes in order, and the routing settings around them."""

    routes: tuple[PreferenceRoute, ...] = ()
    declared: frozenset[str] = frozenset()  # lower-cased model_providers models
    default_model: str = ""
    session_ttl_seconds: int = 600
    session_max_entries: int = 10000


DEFAULTS = Preferences()


def compile_preferences() -> Preferences:
    """Two queries per config version (the config row and the enabled preferences)."""
    from governance.selectors.preferences import declared_models, preference_list, routing_config_get

    config = routing_config_get()
    routes = tuple(
        PreferenceRoute(p.name, p.description, tuple(str(m) for m in p.models), p.prefer,
                        tuple(str(e) for e in p.examples or ()))
        for p in preference_list(enabled_only=True)
    )
    return Preferences(
        routes=routes, declared=declared_models(config), default_model=config.default_model,
        session_ttl_seconds=config.session_ttl_seconds, session_max_entries=config.session_max_entries,
    )
