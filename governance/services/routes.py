"""Control-plane writes for routes and nodes: each write stores a route that passed `route_check`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import IntegrityError, transaction

from governance import config_version
from governance.models import Route, RouteNode
from governance.services.route_checks import CleanRoute, RouteInvalid


@contextmanager
def _write() -> Iterator[None]:
    """One transaction, one config bump; a unique-name race past the check answers 400, not 500."""
    try:
        with transaction.atomic(), config_version.batch():
            yield
            config_version.bump_on_commit()
    except IntegrityError as exc:
        field = "slug" if "route_slug_ci" in str(exc) else "name"
        raise RouteInvalid({field: [f"A route with this {field} already exists."]}) from exc


def _store(route: Route, clean: CleanRoute) -> Route:
    route.name, route.slug, route.mode = clean.name, clean.slug, clean.mode
    route.is_active, route.config, route.provider = clean.is_active, clean.config, clean.provider
    route.save()
    kept = {node.id for node in clean.nodes if node.id is not None}
    route.nodes.exclude(pk__in=kept).delete()
    for node in clean.nodes:
        fields = {"provider": node.provider, "models": node.models, "strategy": node.strategy,
                  "priority": node.priority}
        if node.id is None:
            RouteNode.objects.create(route=route, **fields)
        else:
            RouteNode.objects.filter(pk=node.id, route=route).update(**fields)
    return route


def route_create(*, clean: CleanRoute) -> Route:
    with _write():
        return _store(Route(), clean)


def route_update(*, route: Route, clean: CleanRoute) -> Route:
    """Replace the route; nodes with an id are updated in place, the others created or deleted."""
    with _write():
        return _store(route, clean)


def route_delete(*, route: Route) -> None:
    with _write():
        route.delete()


def routes_set_active(*, routes: list[Route], active: bool) -> int:
    with _write():
        return Route.objects.filter(pk__in=[r.pk for r in routes]).update(is_active=active)
