"""Admin views that run the data plane's resolver: simulate a routing profile, try a rule on a sample request."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from rest_framework.exceptions import ValidationError

from governance.selectors.profiles import profile_simulate
from governance.selectors.rules import rule_simulate

SAMPLE_BODY = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello"}]}


class ProfileSimulateForm(forms.Form):
    model = forms.CharField(help_text="&lt;virtual provider&gt;/&lt;alias&gt;, as a client sends it.")
    capabilities = forms.MultipleChoiceField(
        choices=[("vision", "vision"), ("tools", "tools")], required=False,
        widget=forms.CheckboxSelectMultiple, help_text="What the request needs; text is implied.")


class RuleTryForm(forms.Form):
    body = forms.JSONField(initial=SAMPLE_BODY, widget=forms.Textarea(attrs={"rows": 8, "cols": 80}),
                           help_text="A chat completion request body.")
    headers = forms.JSONField(initial=dict, required=False, widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
                              help_text='Request headers as a JSON object, e.g. {"x-tier": "premium"}.')
    virtual_key_id = forms.CharField(required=False, help_text="Send as this virtual key (its id).")


class _ResolverView:
    """A per-object admin page `<id>/<slug>/` with a form, a result, and an action that opens it."""

    view_slug: str
    view_title: str
    form_class: type[forms.Form]

    def get_urls(self) -> list[URLPattern]:
        opts = self.model._meta  # type: ignore[attr-defined]
        view = self.admin_site.admin_view(self.resolver_view)  # type: ignore[attr-defined]
        name = f"{opts.app_label}_{opts.model_name}_{self.view_slug}"
        return [path(f"<path:object_id>/{self.view_slug}/", view, name=name), *super().get_urls()]  # type: ignore[misc]

    def resolver_url(self, obj: Any) -> str:
        opts = self.model._meta  # type: ignore[attr-defined]
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_{self.view_slug}", args=[obj.pk])

    @admin.display(description="resolver")
    def resolver_link(self, obj: Any) -> str:
        return format_html('<a href="{}">{}</a>', self.resolver_url(obj), self.view_title)

    def open_resolver(self, request: HttpRequest, queryset: QuerySet[Any]) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one.", messages.WARNING)  # type: ignore[attr-defined]
            return None
        return HttpResponseRedirect(self.resolver_url(queryset.get()))

    def resolver_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        obj = get_object_or_404(self.model, pk=object_id)  # type: ignore[attr-defined]
        form = self.form_class(request.POST or None, initial=self.initial_for(obj))
        result = None
        if request.method == "POST" and form.is_valid():
            try:
                result = self.run(obj, form.cleaned_data)
            except ValidationError as exc:
                for field, problems in (exc.detail.items() if isinstance(exc.detail, dict) else []):
                    form.add_error(None, f"{field}: {' '.join(str(p) for p in problems)}")
        context = {
            **self.admin_site.each_context(request),  # type: ignore[attr-defined]
            "opts": self.model._meta, "original": obj, "title": f"{self.view_title}: {obj}",  # type: ignore[attr-defined]
            "form": form, "result": result, "result_json": json.dumps(result, indent=2, default=str),
        }
        return TemplateResponse(request, "admin/governance/resolver.html", context)

    def initial_for(self, obj: Any) -> dict[str, Any]:
        return {}

    def run(self, obj: Any, data: dict[str, Any]) -> dict[str, Any] | None:
        raise NotImplementedError


class ProfileSimulateMixin(_ResolverView):
    view_slug, view_title, form_class = "simulate", "Simulate", ProfileSimulateForm

    def initial_for(self, obj: Any) -> dict[str, Any]:
        alias = next((str(t.get("virtual_model")) for t in obj.targets
                      if t.get("virtual_model") not in (None, "", "*")), "default")
        return {"model": f"{obj.virtual_provider}/{alias}"}

    def run(self, obj: Any, data: dict[str, Any]) -> dict[str, Any] | None:
        result = profile_simulate(model=data["model"], request_type="chat",
                                  capabilities=frozenset(data["capabilities"]) | {"text"})
        if result is not None:
            profile = result["profile"]
            result["profile"] = {"id": profile.id, "name": profile.name, "strategy": profile.strategy}
        return result or {"error": f"No enabled routing profile serves '{data['model']}'."}

    @admin.action(description="Simulate the selected profile")
    def simulate_profile(self, request: HttpRequest, queryset: QuerySet[Any]) -> HttpResponse | None:
        return self.open_resolver(request, queryset)


class RuleTryMixin(_ResolverView):
    view_slug, view_title, form_class = "try", "Try on a sample request", RuleTryForm

    def run(self, obj: Any, data: dict[str, Any]) -> dict[str, Any] | None:
        headers = {str(k): str(v) for k, v in (data.get("headers") or {}).items()}
        result = rule_simulate(body=data["body"], headers=headers,
                               virtual_key_id=data.get("virtual_key_id") or None)
        matched = result.get("matched_rule")
        result["this_rule_matched"] = bool(matched and matched["id"] == obj.pk)
        return result

    @admin.action(description="Try the selected rule on a sample request")
    def try_rule(self, request: HttpRequest, queryset: QuerySet[Any]) -> HttpResponse | None:
        return self.open_resolver(request, queryset)
