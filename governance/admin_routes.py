"""Admin for routes: the spec's route form (auto, specific, multi with node cards), checked by route_check."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse

from governance.models import Route, RouteNode
from governance.selectors.routes import Offer, provider_offers
from governance.services.route_checks import (
    CleanRoute,
    NodeInput,
    RouteInput,
    RouteInvalid,
    model_strategy_for,
    route_check,
)
from governance.services.routes import route_create, route_update, routes_set_active
from providers.models import Provider

STRATEGY_LABELS = {"single": "Single (fixed)", "cycle": "Cycle", "": "No model ticked yet"}
# route_check's paths → the route form's fields (node paths go to the node cards)
ROUTE_FIELDS = {"name": "name", "slug": "slug", "mode": "mode", "config.providerMode": "provider_mode",
                "config.selectedModels": "selected_models", "config.modelStrategy": "selected_models"}
NODE_FIELDS = {"apiId": "provider", "models": "models", "strategy": "strategy", "priority": "priority"}


def strategy_box(count: int) -> str:
    """The info box the spec's form shows; route_form.js rewrites it as boxes are ticked."""
    label = STRATEGY_LABELS[model_strategy_for(count)]
    return (f'<div class="route-strategy" role="status">Model strategy: <strong>{label}</strong>'
            '<span class="route-strategy-help"> (1 model: single, fixed; 2 or more: cycle through them)'
            '</span></div>')


class ModelCheckboxes(forms.CheckboxSelectMultiple):
    """Every model of the registry as a checkbox, tagged with who offers it, for route_form.js to filter:
    data-own (ids of providers whose registry name it is) and data-all (offered by an enabled provider)."""

    def __init__(self, offers: dict[int, Offer]) -> None:
        super().__init__()
        self.tags: dict[str, dict[str, str]] = {}
        for offer in offers.values():
            for key, name in [*offer.names.items(), *offer.upstream.items()]:
                tag = self.tags.setdefault(name, {"data-own": "", "data-all": "", "data-by": ""})
                if key in offer.names:
                    tag["data-own"] = f"{tag['data-own']} {offer.provider.pk}".strip()
                if offer.provider.active:
                    tag["data-all"] = "1"
                    tag["data-by"] = ", ".join(filter(None, [tag["data-by"], offer.provider.name]))
        self.choices = [(name, name) for name in sorted(self.tags, key=str.lower)]

    def create_option(self, name: str, value: Any, label: Any, selected: Any, index: int,
                      subindex: int | None = None, attrs: dict[str, Any] | None = None) -> dict[str, Any]:
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        option["attrs"].update(self.tags.get(str(value), {}))
        return option


def _models_field(offers: dict[int, Offer], label: str) -> forms.MultipleChoiceField:
    widget = ModelCheckboxes(offers)
    return forms.MultipleChoiceField(choices=widget.choices, widget=widget, required=False, label=label)


class RouteForm(forms.ModelForm):
    provider_mode = forms.ChoiceField(label="Providers", required=False)
    provider = forms.ModelChoiceField(Provider.objects.all(), required=False, label="Provider",
                                      empty_label="Choose a provider")
    selected_models = forms.MultipleChoiceField(required=False)  # choices: the registry, per request

    class Meta:
        model = Route
        fields = ["name", "slug", "mode", "is_active"]
        widgets = {"mode": forms.RadioSelect}
        help_texts = {"slug": "Left empty: made from the name. Clients send route/&lt;name&gt; or route/&lt;slug&gt;."}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.offers = provider_offers()
        self.fields["slug"].required = False
        # declared a ChoiceField above; the form's fields are typed as plain Fields
        cast(forms.ChoiceField, self.fields["provider_mode"]).choices = [("all", "Use all enabled providers")] + [
            (f"provider_{o.provider.pk}", f"Use only {o.provider.name}" + ("" if o.provider.active else " (inactive)"))
            for o in self.offers.values()]
        self.fields["selected_models"] = _models_field(self.offers, "Models")
        config, route = self.instance.config or {}, self.instance
        self.initial.setdefault("provider_mode", config.get("providerMode") or "all")
        self.initial.setdefault("selected_models", config.get("selectedModels") or [])
        if route.pk and route.mode == "specific" and (node := route.nodes.first()):
            self.initial.setdefault("provider", node.provider_id)
            self.initial["selected_models"] = config.get("selectedModels") or node.models
        self.clean_route: CleanRoute | None = None

    def route_input(self, nodes: tuple[NodeInput, ...]) -> RouteInput:
        data = self.cleaned_data
        mode = data.get("mode", "")
        selected = tuple(data.get("selected_models") or ()) if mode != "multi" else ()
        return RouteInput(name=data.get("name", ""), mode=mode, slug=data.get("slug") or "",
                          is_active=bool(data.get("is_active")), selected_models=selected,
                          provider_mode=(data.get("provider_mode") or "") if mode == "auto" else "",
                          nodes=nodes)

    def check_route(self, nodes: tuple[NodeInput, ...], node_forms: Sequence[forms.BaseForm] | None = None) -> bool:
        """Run governance's one route check; its messages land on the fields they name."""
        route = self.instance if self.instance.pk else None
        try:
            self.clean_route = route_check(data=self.route_input(nodes), route=route)
            return True
        except RouteInvalid as exc:
            for path, problems in exc.errors.items():
                head, _, field = path.partition(".")
                if head.startswith("nodes[") and node_forms is not None:
                    target = node_forms[int(head[6:-1])]
                    for problem in problems:
                        target.add_error(NODE_FIELDS.get(field), problem)
                    continue
                name = ROUTE_FIELDS.get(path)
                if name is None and self.cleaned_data.get("mode") == "specific":  # its one node
                    name = "selected_models" if path.endswith(".models") else "provider"
                for problem in problems:
                    self.add_error(name, problem if name or node_forms is None else f"Provider nodes: {problem}")
            return False

    def clean(self) -> dict[str, Any]:
        super().clean()  # ModelForm's returns cleaned_data itself, typed Optional by the stubs
        cleaned = self.cleaned_data
        mode = cleaned.get("mode")
        if self.errors or mode == "multi":
            return cleaned  # multi: checked with its node cards, in RouteNodeFormSet.clean
        nodes: tuple[NodeInput, ...] = ()
        stored = list(self.instance.nodes.all()) if self.instance.pk else []
        if mode == "specific":
            provider = cleaned.get("provider")
            if provider is None:
                self.add_error("provider", "Choose the provider of this route.")
                return cleaned
            keep = stored[0].pk if len(stored) == 1 else None
            nodes = (NodeInput(provider.pk, tuple(cleaned.get("selected_models") or ()), id=keep),)
        elif mode == "auto":  # the nodes an auto route falls back to stay as they are
            nodes = tuple(NodeInput(n.provider_id, tuple(n.models), n.strategy, n.priority, n.pk)
                          for n in stored)
        self.check_route(nodes)
        return cleaned


class RouteNodeForm(forms.ModelForm):
    class Meta:
        model = RouteNode
        fields = ["provider", "priority", "strategy", "models"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["models"] = _models_field(provider_offers(), "Models")
        # a ForeignKey's form field is a ModelChoiceField; the form's fields are typed as plain Fields
        cast(forms.ModelChoiceField, self.fields["provider"]).empty_label = "Choose a provider"


class RouteNodeFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        form: RouteForm | None = getattr(self.instance, "_route_form", None)
        if form is None or form.cleaned_data.get("mode") != "multi" or any(self.errors):
            return
        cards, nodes = [], []
        for card in self.forms:
            deleted = self._should_delete_form(card)  # type: ignore[attr-defined]  # private, not in the stubs
            if deleted or not (card.instance.pk or card.has_changed()):
                continue
            data = card.cleaned_data
            cards.append(card)
            nodes.append(NodeInput(data["provider"].pk, tuple(data.get("models") or ()),
                                   data["strategy"], data["priority"], card.instance.pk))
        if not form.check_route(tuple(nodes), cards):
            raise forms.ValidationError(
                [e for e in form.non_field_errors()] or "Fix the errors in the route or its provider nodes.")


class RouteNodeInline(admin.StackedInline):
    model = RouteNode
    form = RouteNodeForm
    formset = RouteNodeFormSet
    extra = 0
    verbose_name = "provider node"
    verbose_name_plural = "Provider nodes (multi mode: tried by priority, lowest first)"
    classes = ["route-nodes"]

    def get_extra(self, request: HttpRequest, obj: Route | None = None, **kwargs: Any) -> int:
        return 0 if obj is not None else 1


@admin.register(Route)
class RouteAdmin(admin.ModelAdmin):
    form = RouteForm
    inlines = [RouteNodeInline]
    change_form_template = "admin/governance/route/change_form.html"
    change_list_template = "admin/governance/route/change_list.html"
    list_display = ["name", "slug", "mode", "is_active", "models_summary", "updated_at"]
    list_filter = ["mode", "is_active"]
    search_fields = ["name", "slug"]
    ordering = ["name"]
    actions = ["activate_routes", "deactivate_routes"]

    class Media:
        js = ["governance/route_form.js"]
        css = {"all": ["governance/route_form.css"]}

    def get_fieldsets(self, request: HttpRequest, obj: Route | None = None) -> Any:
        count = len((obj.config or {}).get("selectedModels") or ()) if obj else 0
        return [
            (None, {"fields": ["name", "slug", "mode", "is_active"]}),
            ("Providers", {"fields": ["provider_mode"], "classes": ["route-auto"]}),
            ("Provider", {"fields": ["provider"], "classes": ["route-specific"]}),
            ("Models", {"fields": ["selected_models"], "classes": ["route-models"],
                        "description": strategy_box(count)}),
        ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Route]:
        return super().get_queryset(request).prefetch_related("nodes__provider")

    @admin.display(description="models")
    def models_summary(self, route: Route) -> str:
        models = (route.config or {}).get("selectedModels")
        if models:
            return f"{', '.join(models)} ({route.config.get('modelStrategy')})"
        return "; ".join(f"{n.provider.name}: {', '.join(n.models)} ({n.strategy})" for n in route.nodes.all())

    def _extra(self, extra_context: dict[str, Any] | None) -> dict[str, Any]:
        return {**(extra_context or {}), "no_providers": not Provider.objects.exists()}

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        return super().changelist_view(request, self._extra(extra_context))

    def changeform_view(self, request: HttpRequest, object_id: str | None = None, form_url: str = "",
                        extra_context: dict[str, Any] | None = None) -> HttpResponse:
        return super().changeform_view(request, object_id, form_url, self._extra(extra_context))

    def save_form(self, request: HttpRequest, form: RouteForm, change: bool) -> Route:
        route = super().save_form(request, form, change)
        route._route_form = form  # the node formset checks with it
        return route

    def save_model(self, request: HttpRequest, obj: Route, form: RouteForm, change: bool) -> None:
        assert form.clean_route is not None  # set by route_check when the form and cards were valid
        if change:
            route = route_update(route=Route.objects.get(pk=obj.pk), clean=form.clean_route)
        else:
            route = route_create(clean=form.clean_route)
        obj.pk = route.pk
        obj.refresh_from_db()

    def save_related(self, request: HttpRequest, form: RouteForm, formsets: Any, change: bool) -> None:
        for formset in formsets:  # the nodes were written by save_model, as one checked route
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    @admin.action(description="Activate selected routes")
    def activate_routes(self, request: HttpRequest, queryset: QuerySet[Route]) -> None:
        changed = routes_set_active(routes=list(queryset), active=True)
        self.message_user(request, f"{changed} route(s) activated.", messages.SUCCESS)

    @admin.action(description="Deactivate selected routes")
    def deactivate_routes(self, request: HttpRequest, queryset: QuerySet[Route]) -> None:
        changed = routes_set_active(routes=list(queryset), active=False)
        self.message_user(request, f"{changed} route(s) deactivated.", messages.SUCCESS)
