"""Registry reads: providers and models, with their relations loaded."""

from __future__ import annotations

from django.db.models import QuerySet

from providers.models import Model, Provider


def provider_list() -> QuerySet[Provider]:
    return Provider.objects.order_by("name")


def model_list(*, provider: str | None = None, enabled: bool | None = None) -> QuerySet[Model]:
    """Models by name; `provider` is a provider name (any case), `enabled` filters when given."""
    models = Model.objects.select_related("provider").order_by("name")
    if provider is not None:
        models = models.filter(provider__name__iexact=provider)
    if enabled is not None:
        models = models.filter(enabled=enabled)
    return models
