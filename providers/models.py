"""Provider and Model: the registry the data plane compiles into its snapshot."""

from __future__ import annotations

from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import Lower

from providers.catalog import KIND_API, KIND_WEIGHT, PROVIDER_TYPES

TYPE_CHOICES = [(t, t) for t in PROVIDER_TYPES]
KIND_CHOICES = [(KIND_API, "api"), (KIND_WEIGHT, "weight")]

provider_name_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$",
    "Use letters, digits, '.', '_' or '-' (at most 63 characters, no '/').",
)


class Provider(models.Model):
    """An upstream endpoint: a type (wire format and defaults), a base URL and a key."""

    name = models.CharField(max_length=63, unique=True, validators=[provider_name_validator])
    type = models.CharField(max_length=20, choices=TYPE_CHOICES)
    kind = models.CharField(max_length=10, choices=KIND_CHOICES, default=KIND_API)
    base_url = models.URLField(
        max_length=500, blank=True, help_text="Empty: the type's *_BASE_URL setting."
    )
    # Write-only: never rendered by the admin or any API. Empty means the
    # type's EXTERNAL_*_KEY setting is used.
    api_key = models.CharField(max_length=500, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="provider_name_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def has_stored_key(self) -> bool:
        return bool(self.api_key)


class Model(models.Model):
    """A model name clients may ask for, and the provider that serves it."""

    class Source(models.TextChoices):
        MANUAL = "manual"
        REFRESH = "refresh"
        AGENT = "agent"

    name = models.CharField(max_length=200, unique=True)
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="models")
    upstream_name = models.CharField(
        max_length=200, blank=True, help_text="Model id sent upstream; empty: the name."
    )
    kind = models.CharField(max_length=10, choices=KIND_CHOICES, default=KIND_API)
    capabilities = models.JSONField(default=list, blank=True, help_text='e.g. ["text", "vision", "tools"]')
    context_window = models.PositiveIntegerField(null=True, blank=True)
    input_price = models.DecimalField(
        max_digits=12, decimal_places=4, null=True, blank=True,
        validators=[MinValueValidator(0)], help_text="USD per 1M input tokens",
    )
    output_price = models.DecimalField(
        max_digits=12, decimal_places=4, null=True, blank=True,
        validators=[MinValueValidator(0)], help_text="USD per 1M output tokens",
    )
    fallbacks = models.JSONField(
        default=list, blank=True,
        help_text="Model names tried in order when this model's provider fails (429, 5xx, timeout).",
    )
    enabled = models.BooleanField(default=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MANUAL)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="model_name_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def upstream_model(self) -> str:
        return self.upstream_name or self.name
