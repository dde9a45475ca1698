"""Admin for the registry: providers with a write-only key, and models with bulk enable/disable."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from governance.selectors.providers import provider_name_conflict
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
        cleaned = super().clean()
        if cleaned.get("clear_api_key"):
            if cleaned.get("api_key"):
                self.add_error("api_key", "Enter a new key or clear the stored one, not both.")
            cleaned["api_key"] = ""
        elif not cleaned.get("api_key"):
            cleaned["api_key"] = self.instance.api_key
        return cleaned


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    form = ProviderForm
    list_display = ["name", "type", "kind", "base_url_display", "active", "key_status"]
    list_filter = ["type", "kind", "active"]
    search_fields = ["name", "base_url"]
    readonly_fields = ["created_at", "updated_at"]

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
        "name", "provider", "kind", "enabled", "source", "context_window",
        "input_price", "output_price",
    ]
    list_select_related = ["provider"]
    autocomplete_fields = ["provider"]
    list_filter = [ProviderTypeFilter, "kind", "enabled", "source", CapabilityFilter]
    search_fields = ["name", "upstream_name"]
    readonly_fields = ["created_at", "updated_at"]
    actions = ["enable_models", "disable_models"]

    @admin.action(description="Enable selected models")
    def enable_models(self, request: HttpRequest, queryset: QuerySet[Model]) -> None:
        changed = models_set_enabled(models=queryset, enabled=True)
        self.message_user(request, f"{changed} model(s) enabled.", messages.SUCCESS)

    @admin.action(description="Disable selected models")
    def disable_models(self, request: HttpRequest, queryset: QuerySet[Model]) -> None:
        changed = models_set_enabled(models=queryset, enabled=False)
        self.message_user(request, f"{changed} model(s) disabled.", messages.SUCCESS)
