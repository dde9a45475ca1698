"""Admin for intent routing: routing preferences (validated like the API) and the one routing config row."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path

from governance.admin import ApiValidatedForm
from governance.api.preferences import PreferenceInputSerializer
from governance.models import RoutingConfig, RoutingPreference
from governance.selectors.preferences import preference_try
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


class PreferenceTryForm(forms.Form):
    text = forms.CharField(
        label="User message", widget=forms.Textarea(attrs={"rows": 5, "cols": 80}), max_length=20000,
        help_text="What a user might send. Nothing is forwarded to a model.",
    )


@admin.register(RoutingPreference)
class RoutingPreferenceAdmin(admin.ModelAdmin):
    form = RoutingPreferenceForm
    change_list_template = "admin/governance/routingpreference/change_list.html"
    list_display = ["name", "prefer", "enabled", "position", "updated_at"]
    list_filter = ["prefer", "enabled"]
    search_fields = ["name", "description"]
    readonly_fields = ["created_at", "updated_at"]
    ordering = ["position", "id"]

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.try_view)
        return [path("try/", view, name="governance_routingpreference_try"), *super().get_urls()]

    def try_view(self, request: HttpRequest) -> HttpResponse:
        """Classify a message against the enabled preferences: the route, its models, every score."""
        form = PreferenceTryForm(request.POST or None)
        result = preference_try(text=form.cleaned_data["text"]) if request.method == "POST" and form.is_valid() else None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta, "title": "Try a message on the routing preferences",
            "form": form, "result": result,
        }
        return TemplateResponse(request, "admin/governance/routingpreference/try.html", context)

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
