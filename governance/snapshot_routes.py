"""Compile routes and nodes for the snapshot: lower-cased name and slug → an immutable CompiledRoute."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping


@dataclass(frozen=True, slots=True)
class Offer:
    """One provider serving one selected model: what to send upstream and the registry row's name."""

    provider: str  # lower-cased provider name (a snapshot.providers key)
    upstream: str
    model: str  # registry name (a snapshot.models key, when enabled)


@dataclass(frozen=True, slots=True)
class CompiledNode:
    id: int
    provider: str  # lower-cased provider name
    offers: tuple[Offer, ...]  # the node's models in order, enabled ones only
    strategy: str  # round-robin | failover
    priority: int


@dataclass(frozen=True, slots=True)
class CompiledRoute:
    id: int
    name: str
    slug: str
    mode: str  # auto | specific | multi
    active: bool
    provider_mode: str  # auto: "all" or "provider_<id>"; "" otherwise
    provider: str  # auto with one provider: its lower-cased name ("" when it no longer exists)
    models: tuple[str, ...]  # config.selectedModels
    strategy: str  # config.modelStrategy: single | cycle | "" (no config: the nodes decide)
    offers: Mapping[str, tuple[Offer, ...]]  # lower-cased selected model → providers serving it
    nodes: tuple[CompiledNode, ...]  # by priority

    @property
    def rotates(self) -> bool:
        """Whether a request moves a rotation (only then is the shared counter touched)."""
        if self.models:
            many = self.provider_mode == "all" and any(len(o) > 1 for o in self.offers.values())
            return len(self.models) > 1 or many
        return any(n.strategy == "round-robin" and len(n.offers) > 1 for n in self.nodes)


def _served() -> dict[str, list[Offer]]:
    """Lower-cased model name or upstream name → every enabled provider serving it, by provider name."""
    from providers.models import Model

    served: dict[str, list[Offer]] = {}
    rows = Model.objects.filter(enabled=True).select_related("provider").order_by("provider__name", "name")
    for row in rows:
        offer = Offer(row.provider.name.lower(), row.upstream_model, row.name)
        for key in dict.fromkeys((row.name.lower(), row.upstream_model.lower())):
            served.setdefault(key, []).append(offer)
    return served


def _offers(served: dict[str, list[Offer]], model: str, provider: str | None = None) -> tuple[Offer, ...]:
    """Who serves `model` (on `provider` only, when given); a registry-name match comes first."""
    found = [o for o in served.get(model.lower(), ()) if provider is None or o.provider == provider]
    found.sort(key=lambda o: o.model.lower() != model.lower())
    if provider is not None:
        return tuple(found[:1])
    unique: dict[str, Offer] = {}
    for offer in found:
        unique.setdefault(offer.provider, offer)
    return tuple(sorted(unique.values(), key=lambda o: o.provider))


def compile_routes() -> dict[str, CompiledRoute]:
    """Every route under its lower-cased name and slug (inactive ones too: they answer clearly)."""
    from governance.models import Route

    served = _served()
    compiled: dict[str, CompiledRoute] = {}
    for row in Route.objects.select_related("provider").prefetch_related("nodes__provider"):
        config = row.config or {}
        models = tuple(str(m) for m in config.get("selectedModels") or ())
        one = row.provider.name.lower() if row.provider else None
        nodes = tuple(
            CompiledNode(
                node.pk, node.provider.name.lower(),
                tuple(o for m in node.models for o in _offers(served, str(m), node.provider.name.lower())),
                node.strategy, node.priority,
            )
            for node in sorted(row.nodes.all(), key=lambda n: (n.priority, n.pk))
        )
        if row.mode == "specific" and nodes:
            one = nodes[0].provider
        route = CompiledRoute(
            id=row.pk, name=row.name, slug=row.slug, mode=row.mode, active=row.is_active,
            provider_mode=str(config.get("providerMode") or ""), provider=one or "",
            models=models, strategy=str(config.get("modelStrategy") or ""),
            offers=MappingProxyType({m.lower(): _offers(served, m, one) for m in models}),
            nodes=nodes,
        )
        compiled.setdefault(row.slug.lower(), route)
        compiled[row.name.lower()] = route  # a name wins over another route's slug
    return compiled
