"""Admin for the registry: providers (health, write-only key), and models with bulk enable/disable."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from gateway.dataplane.health import health

from governance.selectors.providers import provider_name_conflict
from governance.services.providers import providers_set_active
from providers.catalog import PROVIDER_TYPES
from providers.models import Model, Provider
from providers.services import models_set_enabled


class WriteOnlyField(forms.CharField):
    """A secret input that never renders its value and counts as changed only when typed into."""

    widget = forms.PasswordInput(render_value=False)

    def has_changed(self, initial: Any, data: Any) -> bool:
        return bool(data)


class ProviderForm(forms.ModelForm):
    base_url = forms.URLField(
        required=False, max_length=500, assume_scheme="https", label="Base URL",
        help_text=Provider._meta.get_field("base_url").help_text,
    )
    api_key = WriteOnlyField(
        required=False, max_length=500, label="API key",
        help_text="Write-only. Leave blank to keep the stored key (or the type's EXTERNAL_*_KEY).",
    )
    clear_api_key = forms.BooleanField(
        required=False, label="Clear stored key",
        help_text="Remove the stored key and fall back to the type's EXTERNAL_*_KEY setting.",
    )

    class Meta:
        model = Provider
        fields = ["name", "type", "kind", "base_url", "api_key", "clear_api_key", "active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial["api_key"] = ""  # the stored key never enters the form

    def clean_name(self) -> str:
        """A routing profile's virtual provider is not free for a real provider to take."""
        name = self.cleaned_data["name"]
        if problem := provider_name_conflict(name=name):
            raise forms.ValidationError(problem)
        return name

    def clean(self) -> dict[str, Any]:
        super().clean()  # ModelForm's returns cleaned_data itself, typed Optional by the stubs
        cleaned = self.cleaned_data
        if cleaned.get("clear_api_key"):
            if cleaned.get("api_key"):
                self.add_error("api_key", "Enter a new key or clear the stored one, not both.")
            cleaned["api_key"] = ""
        elif not cleaned.get("api_key"):
            cleaned["api_key"] = self.instance.api_key
        return cleaned


HEALTH_COLOURS = {"healthy": "#2e7d32", "degraded": "#b26a00", "open": "#ba2121"}


def health_badge(provider: Provider) -> str:
    """The circuit breaker's state in this process (each gateway process keeps its own)."""
    state = health.state(provider.name)
    return format_html('<strong style="color: {}">{}</strong>', HEALTH_COLOURS[state], state)


class HealthFilter(admin.SimpleListFilter):
    title = "health (this process)"
    parameter_name = "health"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(state, state) for state in HEALTH_COLOURS]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Provider]) -> QuerySet[Provider]:
        if not self.value():
            return queryset
        names = [p.name for p in queryset if health.state(p.name) == self.value()]
        return queryset.filter(name__in=names)


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    form = ProviderForm
    list_display = ["name", "type", "kind", "base_url_display", "active", "health_display",
                    "model_count", "key_status"]
    list_filter = ["type", "kind", "active", HealthFilter]
    search_fields = ["name", "base_url", "models__name"]
    readonly_fields = ["health_display", "created_at", "updated_at"]
    actions = ["activate_providers", "deactivate_providers"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Provider]:
        return super().get_queryset(request).annotate(model_total=Count("models", distinct=True))

    @admin.display(description="health")
    def health_display(self, provider: Provider) -> str:
        return health_badge(provider)

    @admin.display(description="models", ordering="model_total")
    def model_count(self, provider: Provider) -> str:
        url = reverse("admin:providers_model_changelist") + f"?provider__id__exact={provider.pk}"
        return format_html('<a href="{}">{}</a>', url, getattr(provider, "model_total", 0))

    @admin.action(description="Activate selected providers")
    def activate_providers(self, request: HttpRequest, queryset: QuerySet[Provider]) -> None:
        changed = providers_set_active(providers=queryset, active=True)
        self.message_user(request, f"{changed} provider(s) activated.", messages.SUCCESS)

    @admin.action(description="Deactivate selected providers (routing skips them)")
    def deactivate_providers(self, request: HttpRequest, queryset: QuerySet[Provider]) -> None:
        changed = providers_set_active(providers=queryset, active=False)
        self.message_user(request, f"{changed} provider(s) deactivated.", messages.SUCCESS)

    @admin.display(description="base URL")
    def base_url_display(self, provider: Provider) -> str:
        return provider.base_url or f"from {PROVIDER_TYPES[provider.type].base_url_setting}"

    @admin.display(description="key")
    def key_status(self, provider: Provider) -> str:
        ptype = PROVIDER_TYPES[provider.type]
        if provider.has_stored_key:
            return "stored"
        if not ptype.key_setting:
            return "not needed"
        return f"from {ptype.key_setting}" if ptype.settings_key else "missing"


class ProviderTypeFilter(admin.SimpleListFilter):
    title = "provider type"
    parameter_name = "provider_type"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(t, t) for t in PROVIDER_TYPES]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Model]) -> QuerySet[Model]:
        return queryset.filter(provider__type=self.value()) if self.value() else queryset


class CapabilityFilter(admin.SimpleListFilter):
    title = "capability"
    parameter_name = "capability"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        stored = Model.objects.values_list("capabilities", flat=True)
        seen = {str(c) for caps in stored for c in caps or ()}
        return [(c, c) for c in sorted(seen)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Model]) -> QuerySet[Model]:
        if not self.value():
            return queryset
        # JSON `contains` is not available on SQLite; the quoted text match works on both backends.
        return queryset.filter(capabilities__icontains=f'"{self.value()}"')


@admin.register(Model)
class ModelAdmin(admin.ModelAdmin):
    list_display = [
        "name", "provider", "upstream_name", "kind", "enabled", "source", "provider_health",
        "context_window", "input_price", "output_price",
    ]
    list_select_related = ["provider"]
    autocomplete_fields = ["provider"]
    list_filter = [
        ("provider", admin.RelatedOnlyFieldListFilter), ProviderTypeFilter, "kind", "enabled",
        "source", CapabilityFilter,
    ]
    search_fields = ["name", "upstream_name", "provider__name"]
    readonly_fields = ["created_at", "updated_at"]
    actions = ["enable_models", "disable_models"]

    @admin.display(description="provider health")
    def provider_health(self, model: Model) -> str:
        return health_badge(model.provider)

    @admin.action(description="Enable selected models")
    def enable_models(self, request: HttpRequest, queryset: QuerySet[Model]) -> None:
        changed = models_set_enabled(models=queryset, enabled=True)
        self.message_user(request, f"{changed} model(s) enabled.", messages.SUCCESS)

    @admin.action(description="Disable selected models")
    def disable_models(self, request: HttpRequest, queryset: QuerySet[Model]) -> None:
        changed = models_set_enabled(models=queryset, enabled=False)
        self.message_user(request, f"{changed} model(s) disabled.", messages.SUCCESS)
