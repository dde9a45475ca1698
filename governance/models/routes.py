"""Control-plane tables: routes (`route/<name>`) and their provider nodes (route-configuration.md)."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower

__all__ = ["Route", "RouteNode"]


class Route(models.Model):
    """A named route: auto (config picks providers), specific (one node) or multi (nodes by priority).

    `config` holds the spec's `{providerMode, selectedModels, modelStrategy}`; `provider` mirrors
    `providerMode: provider_<id>` as a real foreign key, so a provider a route uses cannot be deleted.
    Both are written only by governance/services/routes.py, after governance's one route check.
    """

    class Mode(models.TextChoices):
        AUTO = "auto"
        SPECIFIC = "specific"
        MULTI = "multi"

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100)
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.AUTO)
    is_active = models.BooleanField(default=True)
    config = models.JSONField(default=dict, blank=True)
    provider = models.ForeignKey(
        "providers.Provider", null=True, blank=True, on_delete=models.PROTECT, related_name="routes",
        help_text="Auto mode with one provider (providerMode provider_<id>); empty: all providers.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="route_name_ci_unique"),
            models.UniqueConstraint(Lower("slug"), name="route_slug_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class RouteNode(models.Model):
    """One provider of a route (the spec's `apiId`) with its models, strategy and priority."""

    class Strategy(models.TextChoices):
        ROUND_ROBIN = "round-robin"
        FAILOVER = "failover"

    route = models.ForeignKey(Route, on_delete=models.CASCADE, related_name="nodes")
    provider = models.ForeignKey(
        "providers.Provider", on_delete=models.PROTECT, related_name="route_nodes"
    )
    strategy = models.CharField(
        max_length=12, choices=Strategy.choices, default=Strategy.ROUND_ROBIN
    )
    priority = models.PositiveIntegerField(default=0, help_text="Lower is tried first.")
    # Last: from here on `models` in this class body is the field, not django.db.models.
    models = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["priority", "id"]

    def __str__(self) -> str:
        return f"{self.route} → {self.provider_id} (priority {self.priority})"
