"""Compile the config tables into an immutable snapshot the data plane serves from without queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

from providers.catalog import PROVIDER_TYPES, ProviderType, api_root


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
class Snapshot:
    version: int
    providers: Mapping[str, ProviderEntry]  # lower-cased name → entry
    models: Mapping[str, ModelEntry]  # lower-cased name → entry (enabled only)

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
    for row in Model.objects.filter(enabled=True).select_related("provider"):
        models[row.name.lower()] = ModelEntry(
            name=row.name,
            provider=row.provider.name.lower(),
            upstream_model=row.upstream_model,
            kind=row.kind,
            capabilities=frozenset(row.capabilities or ["text"]),
            context_window=row.context_window,
            input_price=float(row.input_price) if row.input_price is not None else None,
            output_price=float(row.output_price) if row.output_price is not None else None,
            created=int(row.created_at.timestamp()),
            fallbacks=tuple(str(name) for name in row.fallbacks or ()),
        )
    return Snapshot(version, MappingProxyType(providers), MappingProxyType(models))
