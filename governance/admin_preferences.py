"""Admin for intent routing: routing preferences (validated like the API) and the one routing config row."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from governance.admin import ApiValidatedForm
from governance.api.preferences import PreferenceInputSerializer
from governance.models import RoutingConfig, RoutingPreference
from governance.services.preferences import (
    RoutingConfigError,
    check_config_change,
    preference_create,
    preference_update,
    routing_config_update,
)


class RoutingPreferenceForm(ApiValidatedForm):
    serializer_class = PreferenceInputSerializer

    class Meta:
        model = RoutingPreference
        fields = ["name", "description", "models", "prefer", "examples", "enabled", "position"]


@admin.register(RoutingPreference)
class RoutingPreferenceAdmin(admin.ModelAdmin):
    form = RoutingPreferenceForm
    list_display = ["name", "prefer", "enabled", "position", "updated_at"]
    list_filter = ["prefer", "enabled"]
    search_fields = ["name", "description"]
    readonly_fields = ["created_at", "updated_at"]
    ordering = ["position", "id"]

    def save_model(self, request: HttpRequest, obj: RoutingPreference, form: Any, change: bool) -> None:
        data = {name: form.cleaned_data[name] for name in RoutingPreferenceForm.Meta.fields}
        if change:
            preference_update(preference=obj, data=data)
        else:
            obj.pk = preference_create(data=data).pk
            obj.refresh_from_db()


class RoutingConfigForm(forms.ModelForm):
    """model_providers items are `{"model", "access_key_env", "default"}`: a variable's name, never a key."""

    class Meta:
        model = RoutingConfig
        fields = ["version", "model_providers", "session_ttl_seconds", "session_max_entries"]

    def clean(self) -> dict[str, Any]:
        super().clean()  # ModelForm's returns cleaned_data itself, typed Optional by the stubs
        cleaned = self.cleaned_data
        if self.errors:
            return cleaned
        from governance.services.preferences import check_model_providers

        spec = [{"model": p.get("model"), "access_key": f"${p['access_key_env']}" if p.get("access_key_env") else None,
                 "default": p.get("default")} if isinstance(p, dict) else p
                for p in cleaned.get("model_providers") or []]
        try:
            providers, default = check_model_providers(spec)
            declared = frozenset(p["model"].lower() for p in providers)
            check_config_change(version=cleaned["version"], declared=declared)
        except RoutingConfigError as exc:
            field = exc.field.split("[")[0].split(".")[0]
            self.add_error(field if field in self.fields else None, exc.message)
            return cleaned
        cleaned["model_providers"], cleaned["default_model"] = providers, default
        return cleaned


@admin.register(RoutingConfig)
class RoutingConfigAdmin(admin.ModelAdmin):
    form = RoutingConfigForm
    list_display = ["version", "default_model", "session_ttl_seconds", "session_max_entries", "updated_at"]
    readonly_fields = ["default_model", "updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not RoutingConfig.objects.exists()  # one row: load a file or edit this one

    def save_model(self, request: HttpRequest, obj: RoutingConfig, form: Any, change: bool) -> None:
        data = {name: form.cleaned_data[name] for name in RoutingConfigForm.Meta.fields}
        obj.pk = routing_config_update(data={**data, "default_model": form.cleaned_data["default_model"]}).pk
        obj.refresh_from_db()
