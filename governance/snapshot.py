"""Compile the config tables into an immutable snapshot the data plane serves from without queries."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

from governance.cel import Caller, CelError, RuleIndex, compile_expression
from providers.catalog import PROVIDER_TYPES, ProviderType, api_root

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ProviderEntry:
    """An upstream as the data plane needs it: resolved URL, key and wire format."""

    name: str
    type: str
    wire: str
    api_root: str
    api_key: str = field(repr=False)
    key_setting: str  # settings variable to name when the key is missing
    active: bool = True
    builtin: bool = False  # made from settings, not from a Provider row

    @property
    def missing_key(self) -> bool:
        return bool(self.key_setting) and not self.api_key


@dataclass(frozen=True, slots=True)
class ModelEntry:
    name: str
    provider: str
    upstream_model: str
    kind: str
    capabilities: frozenset[str]
    context_window: int | None
    input_price: float | None  # USD per 1M tokens
    output_price: float | None
    created: int
    fallbacks: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ProfileTarget:
    provider: str
    model: str  # "" keeps the requested model
    virtual_model: str  # "" or "*" match any alias
    priority: int
    weight: float
    capabilities: frozenset[str]  # empty: no constraint
    request_types: frozenset[str]  # empty: any
    enabled: bool


@dataclass(frozen=True, slots=True)
class Profile:
    id: str
    name: str
    virtual_provider: str
    strategy: str
    targets: tuple[ProfileTarget, ...]


@dataclass(frozen=True, slots=True)
class RuleTarget:
    provider: str
    model: str
    weight: float
    key_id: str = ""


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    name: str
    scope: str
    scope_id: str | None
    priority: int
    targets: tuple[RuleTarget, ...]
    fallbacks: tuple[str, ...]  # "provider/model"


RuleScopeKey = tuple[str, str | None]


@dataclass(frozen=True, slots=True)
class Snapshot:
    version: int
    providers: Mapping[str, ProviderEntry]  # lower-cased name → entry
    models: Mapping[str, ModelEntry]  # lower-cased name → entry (enabled only)
    profiles: Mapping[str, Profile] = field(default_factory=dict)  # lower-cased virtual provider → profile
    rules: Mapping[RuleScopeKey, RuleIndex[Rule]] = field(default_factory=dict)  # (scope, scope_id) → rules
    keys: Mapping[str, Caller] = field(default_factory=dict)  # sha256 of an active key → caller
    revoked_keys: frozenset[str] = frozenset()  # sha256 of inactive keys
    # Routes (`route/<name>`), compiled by governance/snapshot_routes.py.
    routes: Mapping[str, Any] = field(default_factory=dict)
    # Configured routing preferences (intent routing), compiled by governance/snapshot_preferences.py.
    preferences: Any = None

    def provider(self, name: str) -> ProviderEntry | None:
        return self.providers.get(name.lower())

    def model(self, name: str) -> ModelEntry | None:
        return self.models.get(name.lower())


def builtin_provider(ptype: ProviderType) -> ProviderEntry:
    """The provider a type gets from settings alone (used by the prefix heuristics)."""
    return ProviderEntry(
        name=ptype.type,
        type=ptype.type,
        wire=ptype.wire,
        api_root=api_root(ptype.base_url, ptype.api_prefix),
        api_key=ptype.settings_key,
        key_setting=ptype.key_setting,
        builtin=True,
    )


def compile_snapshot(version: int) -> Snapshot:
    """Read the registry once and build the lookup tables (sync: call via sync_to_async)."""
    from providers.models import Model, Provider

    providers: dict[str, ProviderEntry] = {
        t.type: builtin_provider(t) for t in PROVIDER_TYPES.values() if t.base_url
    }
    for row in Provider.objects.all():
        ptype = PROVIDER_TYPES[row.type]
        # Weight models are served by a local agent worker: their provider's
        # endpoint is that agent (huggingface's default is LOCAL_AGENT_URL).
        base = row.base_url or ptype.base_url
        providers[row.name.lower()] = ProviderEntry(
            name=row.name,
            type=row.type,
            wire=ptype.wire,
            api_root=api_root(base, ptype.api_prefix),
            api_key=row.api_key or ptype.settings_key,
            key_setting=ptype.key_setting,
            active=row.active,
        )
    models: dict[str, ModelEntry] = {}
    for model in Model.objects.filter(enabled=True).select_related("provider"):
        models[model.name.lower()] = ModelEntry(
            name=model.name,
            provider=model.provider.name.lower(),
            upstream_model=model.upstream_model,
            kind=model.kind,
            capabilities=frozenset(model.capabilities or ["text"]),
            context_window=model.context_window,
            input_price=float(model.input_price) if model.input_price is not None else None,
            output_price=float(model.output_price) if model.output_price is not None else None,
            created=int(model.created_at.timestamp()),
            fallbacks=tuple(str(name) for name in model.fallbacks or ()),
        )
    from governance.snapshot_preferences import compile_preferences
    from governance.snapshot_routes import compile_routes

    active, revoked = _keys()
    return Snapshot(
        version,
        MappingProxyType(providers),
        MappingProxyType(models),
        MappingProxyType(_profiles()),
        MappingProxyType(_rules()),
        active,
        revoked,
        MappingProxyType(compile_routes()),
        compile_preferences(),
    )


def _profiles() -> dict[str, Profile]:
    from governance.models import RoutingProfile

    profiles: dict[str, Profile] = {}
    for row in RoutingProfile.objects.filter(enabled=True):
        targets = tuple(
            ProfileTarget(
                provider=str(t["provider"]),
                model=str(t.get("model") or ""),
                virtual_model=str(t.get("virtual_model") or "").strip(),
                priority=int(t.get("priority") or 0),
                weight=float(t["weight"]) if t.get("weight") is not None else 1.0,
                capabilities=frozenset(c.lower() for c in t.get("capabilities") or ()),
                request_types=frozenset(r.lower() for r in t.get("request_types") or ()),
                enabled=bool(t.get("enabled", True)),
            )
            for t in row.targets
        )
        profiles[row.virtual_provider.lower()] = Profile(
            row.id, row.name, row.virtual_provider, row.strategy, targets
        )
    return profiles


def _rules() -> dict[RuleScopeKey, RuleIndex[Rule]]:
    """Enabled rules grouped by (scope, scope_id), each group in priority order, CEL compiled once."""
    from governance.models import RoutingRule

    groups: dict[RuleScopeKey, list[tuple[object, Rule]]] = {}
    for row in RoutingRule.objects.filter(enabled=True).order_by("priority", "created_at"):
        rule = Rule(
            id=row.id,
            name=row.name,
            scope=row.scope,
            scope_id=row.scope_id if row.scope != "global" else None,
            priority=row.priority,
            targets=tuple(
                RuleTarget(str(t.get("provider") or ""), str(t.get("model") or ""),
                           float(t.get("weight") or 0), str(t.get("key_id") or ""))
                for t in row.targets
            ),
            fallbacks=tuple(str(f) for f in row.fallbacks or ()),
        )
        try:
            expression = compile_expression(row.cel_expression)
        except CelError as exc:  # saved through the API it compiled; a hand-edited row may not
            log.error("routing rule %s skipped: %s", row.id, exc.message)
            continue
        groups.setdefault((rule.scope, rule.scope_id), []).append((expression, rule))
    return {key: RuleIndex(entries) for key, entries in groups.items()}  # type: ignore[arg-type]


def _keys() -> tuple[MappingProxyType[str, Caller], frozenset[str]]:
    from governance.models import VirtualKey

    active: dict[str, Caller] = {}
    revoked: set[str] = set()
    for key in VirtualKey.objects.select_related("team", "customer", "team__customer"):
        if not key.active:
            revoked.add(key.key_hash)
            continue
        customer = key.customer or (key.team.customer if key.team else None)
        active[key.key_hash] = Caller(
            key_id=key.id,
            key_name=key.name,
            team_id=key.team_id,
            team_name=key.team.name if key.team else None,
            customer_id=customer.id if customer else None,
            customer_name=customer.name if customer else None,
        )
    return MappingProxyType(active), frozenset(revoked)
