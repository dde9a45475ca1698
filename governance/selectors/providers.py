"""Provider names as routing sees them: real providers (types, rows) and virtual ones."""

from __future__ import annotations

from governance.models import RoutingProfile
from providers.catalog import PROVIDER_TYPES
from providers.models import Provider


def provider_names_real() -> set[str]:
    """Lower-cased names of real providers: the built-in types and every Provider row."""
    names = set(PROVIDER_TYPES)
    names.update(name.lower() for name in Provider.objects.values_list("name", flat=True))
    return names


def provider_names_known() -> set[str]:
    """Lower-cased names a rule target may use: real providers and profiles' virtual providers."""
    names = provider_names_real()
    virtual = RoutingProfile.objects.values_list("virtual_provider", flat=True)
    names.update(name.lower() for name in virtual)
    return names


def provider_name_conflict(*, name: str) -> str | None:
    """Why a Provider cannot be called `name` (reserved, or a profile's virtual provider), or None."""
    if name.lower() == "route":
        return "'route' is reserved: `route/<name>` names a route, so no provider may be called that."
    profile = RoutingProfile.objects.filter(virtual_provider__iexact=name).first()
    if profile is None:
        return None
    return (f"'{name}' is the virtual provider of routing profile '{profile.name}'; "
            "a real provider must be named differently.")
