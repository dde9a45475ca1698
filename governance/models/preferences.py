"""Control-plane tables for intent routing: routing preferences and the routing config they live in."""

from __future__ import annotations

from django.db import models as db
from django.db.models.functions import Lower

from governance import config_version

__all__ = ["PREFER_CHOICES", "RoutingConfig", "RoutingPreference"]

# `none` keeps the declared order (Plano's default); `balanced` is Switchyard's weighted score.
PREFER_CHOICES = [(p, p) for p in ("none", "cheapest", "fastest", "random", "balanced")]


class RoutingPreference(db.Model):
    """One route of intent routing: a description the classifier matches, and its ordered models."""

    name = db.CharField(max_length=100)
    description = db.TextField(help_text="One sentence the classifier matches user intent against.")
    models = db.JSONField(help_text='Ordered candidate pool, e.g. ["openai/gpt-4o", "openai/gpt-4o-mini"].')
    prefer = db.CharField(max_length=10, choices=PREFER_CHOICES, default="none")
    examples = db.JSONField(default=list, blank=True, help_text="Optional example prompts.")
    enabled = db.BooleanField(default=True)
    position = db.PositiveIntegerField(default=0, help_text="Order among the preferences.")
    created_at = db.DateTimeField(auto_now_add=True)
    updated_at = db.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [db.UniqueConstraint(Lower("name"), name="routing_preference_name_ci_unique")]

    def __str__(self) -> str:
        return self.name


class RoutingConfig(db.Model):
    """The one row of settings around the preferences: version, declared models, sessions, default.

    `model_providers` holds `{"model", "access_key_env", "default"}` items: an access key is
    kept as the NAME of the variable (`$OPENAI_API_KEY` → "OPENAI_API_KEY"), never its value.
    """

    version = db.CharField(max_length=20, default="v0.4.0")
    model_providers = db.JSONField(default=list, blank=True)
    default_model = db.CharField(max_length=200, blank=True)
    session_ttl_seconds = db.PositiveIntegerField(default=600)
    session_max_entries = db.PositiveIntegerField(default=10000)
    # sha256 of the last file loaded from ROUTING_CONFIG_FILE: a restart with the same file is a no-op.
    source_digest = db.CharField(max_length=64, blank=True, editable=False)
    updated_at = db.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "routing config"

    def __str__(self) -> str:
        return f"routing config {self.version}"


config_version.watch(RoutingPreference, RoutingConfig)
