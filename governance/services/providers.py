"""Provider writes for the governance API: the key is write-only, a provider routes use cannot go."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import ProtectedError, QuerySet

from governance import config_version
from providers.models import Provider

WRITABLE = ("name", "type", "kind", "base_url", "active")


class ProviderInUse(Exception):
    """The provider is a route's node or its auto provider; nothing was deleted."""


@transaction.atomic
def provider_create(*, data: dict[str, Any]) -> Provider:
    return Provider.objects.create(api_key=data.get("api_key") or "", **{f: data[f] for f in WRITABLE})


@transaction.atomic
def provider_update(*, provider: Provider, data: dict[str, Any]) -> Provider:
    """Replace the fields; `api_key` absent (or null) keeps the stored key, "" clears it."""
    for name in WRITABLE:
        setattr(provider, name, data[name])
    if data.get("api_key") is not None:
        provider.api_key = data["api_key"]
    provider.save()
    return provider


def provider_delete(*, provider: Provider) -> None:
    try:
        with transaction.atomic():
            provider.delete()
    except ProtectedError as exc:
        routes = sorted({str(getattr(o, "route", o)) for o in exc.protected_objects})
        raise ProviderInUse(
            f"Provider '{provider.name}' is used by route(s) {', '.join(routes)}: "
            "remove it from them first."
        ) from None


def providers_set_active(*, providers: QuerySet[Provider], active: bool) -> int:
    """Switch many providers on or off in one update, with one config-version bump."""
    changed = providers.exclude(active=active).update(active=active)
    if changed:  # update() sends no post_save, so the snapshot must be told here
        config_version.bump_on_commit()
    return changed
