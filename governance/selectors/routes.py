"""Route reads: routes with their nodes, and which provider offers which model (for checks and forms)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Prefetch, QuerySet

from governance.models import Route, RouteNode
from providers.models import Model, Provider


def route_list() -> QuerySet[Route]:
    nodes = Prefetch("nodes", queryset=RouteNode.objects.select_related("provider"))
    return Route.objects.select_related("provider").prefetch_related(nodes)


def route_get(*, route_id: int) -> Route | None:
    return route_list().filter(pk=route_id).first()


@dataclass(slots=True)
class Offer:
    """The models one provider offers: registry names and upstream names, lower-cased → as stored."""

    provider: Provider
    names: dict[str, str] = field(default_factory=dict)  # registry names
    upstream: dict[str, str] = field(default_factory=dict)  # upstream names that differ
    disabled: set[str] = field(default_factory=set)  # lower-cased registry names

    def canonical(self, model: str) -> str | None:
        """`model` as the registry spells it when this provider offers it, else None."""
        key = model.strip().lower()
        return self.names.get(key) or self.upstream.get(key)


def provider_offers(*, provider_ids: set[int] | None = None) -> dict[int, Offer]:
    """Every provider (or those given) with the models it offers, enabled or not.

    A provider offers a model when one of its Model rows has that name or upstream name.
    """
    providers = Provider.objects.all()
    rows = Model.objects.all()
    if provider_ids is not None:
        providers = providers.filter(pk__in=provider_ids)
        rows = rows.filter(provider_id__in=provider_ids)
    offers = {p.pk: Offer(p) for p in providers.order_by("name")}
    for provider_id, name, upstream, enabled in rows.order_by("name").values_list(
        "provider_id", "name", "upstream_name", "enabled"
    ):
        offer = offers[provider_id]
        offer.names[name.lower()] = name
        if upstream and upstream.lower() != name.lower():
            offer.upstream.setdefault(upstream.lower(), upstream)
        if not enabled:
            offer.disabled.add(name.lower())
    return offers
