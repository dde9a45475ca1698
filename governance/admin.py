"""Admin for the control plane: callers (a key's secret is shown once), profiles and rules."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar, TypedDict

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from rest_framework import serializers
from rest_framework.settings import api_settings

from governance import config_version
from governance.api.profile_serializers import ProfileInputSerializer
from governance.api.rule_serializers import RoutingRuleInputSerializer
from governance.admin_simulate import ProfileSimulateMixin, RuleTryMixin
from governance.models import Customer, RoutingProfile, RoutingRule, Team, VirtualKey
from governance.services.callers import (
    caller_name_conflict,
    virtual_key_create,
    virtual_key_owner_conflict,
    virtual_key_revoke,
    virtual_key_rotate,
    virtual_key_update,
)

if TYPE_CHECKING:
    from django.contrib.admin.options import _FieldGroups

SHOWN_ONCE = "copy it now: it is not stored and will not be shown again"


class CallerForm(forms.ModelForm):
    """Names are unique ignoring case, with the error on the name field (as in the API)."""

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        model, pk = self._meta.model, self.instance.pk
        problem = caller_name_conflict(model=model, name=name, exclude_pk=pk)
        if problem:
            raise forms.ValidationError(problem)
        return name


class VirtualKeyForm(CallerForm):
    def clean(self) -> dict[str, Any]:
        super().clean()  # ModelForm's returns cleaned_data itself, typed Optional by the stubs
        cleaned = self.cleaned_data
        team, customer = cleaned.get("team"), cleaned.get("customer")
        problem = virtual_key_owner_conflict(team=team, customer=customer)
        if problem:
            self.add_error("customer", problem)
        return cleaned


def _messages(detail: Any, where: str = "") -> Iterator[str]:
    """A serializer's error detail as lines, nested list items and fields named by their path."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            yield from _messages(value, f"{where}[{key}]" if isinstance(key, int) else
                                 f"{where}.{key}" if where else str(key))
    elif isinstance(detail, list):
        for i, item in enumerate(detail):
            if isinstance(item, (dict, list)):
                yield from _messages(item, f"{where}[{i}]")
            else:
                yield f"{where}: {item}" if where else str(item)


class ApiValidatedForm(forms.ModelForm):
    """Runs the API's input serializer on the cleaned fields, so the admin saves only what the
    API would accept (and stores it normalised as the API does), errors on the same fields."""

    serializer_class: ClassVar[type[serializers.Serializer]]

    def api_data(self) -> dict[str, Any]:
        return {name: value for name, value in self.cleaned_data.items() if value is not None}

    def clean(self) -> dict[str, Any]:
        super().clean()  # ModelForm's returns cleaned_data itself, typed Optional by the stubs
        cleaned = self.cleaned_data
        if self.errors:  # a field is already refused; its value is missing from cleaned_data
            return cleaned
        instance = None if self.instance._state.adding else self.instance
        serializer = self.serializer_class(instance, data=self.api_data())
        if serializer.is_valid():
            for name, value in serializer.validated_data.items():
                if name in cleaned:
                    cleaned[name] = value
            return cleaned
        for name, detail in serializer.errors.items():
            field = name if name in self.fields else None
            where = "" if field or name == api_settings.NON_FIELD_ERRORS_KEY else name
            for message in _messages(detail, where):
                self.add_error(field, message)
        return cleaned


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    form = CallerForm
    list_display = ["name", "id", "created_at"]
    list_filter = ["created_at"]
    search_fields = ["name", "id"]
    readonly_fields = ["id", "created_at"]
    ordering = ["name"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    form = CallerForm
    list_display = ["name", "customer", "id", "created_at"]
    list_select_related = ["customer"]
    list_filter = [("customer", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "id", "customer__name"]
    autocomplete_fields = ["customer"]
    readonly_fields = ["id", "created_at"]
    ordering = ["name"]


class _KeyFields(TypedDict):
    """What the admin form edits of a key: the same arguments to create and update it."""

    name: str
    team: Team | None
    customer: Customer | None
    active: bool


@admin.register(VirtualKey)
class VirtualKeyAdmin(admin.ModelAdmin):
    """key_hash appears in no list, form or field; a secret reaches a page once, in a message."""

    form = VirtualKeyForm
    list_display = ["name", "key_prefix", "team", "customer", "active", "created_at"]
    list_select_related = ["team", "customer"]
    list_filter = [
        "active",
        ("team", admin.RelatedOnlyFieldListFilter),
        ("customer", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["name", "key_prefix", "id", "team__name", "customer__name"]
    autocomplete_fields = ["team", "customer"]
    readonly_fields = ["id", "key_prefix", "created_at"]
    ordering = ["name"]
    actions = ["revoke_keys", "rotate_keys"]

    def get_fields(self, request: HttpRequest, obj: VirtualKey | None = None) -> _FieldGroups:
        if obj is None:  # the add form: the secret is generated on save, there is nothing to type
            return ["name", "team", "customer", "active"]
        return ["id", "name", "key_prefix", "team", "customer", "active", "created_at"]

    def save_model(self, request: HttpRequest, obj: VirtualKey, form: Any, change: bool) -> None:
        fields = _KeyFields(name=obj.name, team=obj.team, customer=obj.customer, active=obj.active)
        if change:
            virtual_key_update(virtual_key=obj, **fields)
            return
        key, secret = virtual_key_create(**fields)
        obj.pk = key.pk
        obj.refresh_from_db()  # the admin logs and redirects with `obj`: give it the saved row
        messages.success(request, f"New virtual key '{key.name}': {secret} ({SHOWN_ONCE})")

    @admin.action(description="Revoke selected keys")
    def revoke_keys(self, request: HttpRequest, queryset: QuerySet[VirtualKey]) -> None:
        with config_version.batch():
            for key in queryset:
                virtual_key_revoke(virtual_key=key)
        self.message_user(request, f"{len(queryset)} key(s) revoked.", messages.SUCCESS)

    @admin.action(description="Rotate selected keys (new secrets are shown once)")
    def rotate_keys(self, request: HttpRequest, queryset: QuerySet[VirtualKey]) -> None:
        with config_version.batch():
            for key in queryset:
                key, secret = virtual_key_rotate(virtual_key=key)
                message = f"New secret for '{key.name}': {secret} ({SHOWN_ONCE})"
                self.message_user(request, message, messages.SUCCESS)


class RoutingProfileForm(ApiValidatedForm):
    serializer_class = ProfileInputSerializer

    class Meta:
        model = RoutingProfile
        fields = "__all__"

    def api_data(self) -> dict[str, Any]:
        return {"id": self.instance.pk, **super().api_data()}  # the id is read-only on change


@admin.register(RoutingProfile)
class RoutingProfileAdmin(ProfileSimulateMixin, admin.ModelAdmin):
    form = RoutingProfileForm
    list_display = ["name", "virtual_provider", "strategy", "enabled", "updated_at", "resolver_link"]
    actions = ["simulate_profile"]
    list_filter = ["strategy", "enabled"]
    search_fields = ["id", "name", "virtual_provider", "description"]
    readonly_fields = ["created_at", "updated_at"]
    ordering = ["name"]

    def get_readonly_fields(
        self, request: HttpRequest, obj: RoutingProfile | None = None
    ) -> list[str]:
        # The id is chosen once: editing a primary key in the admin would copy the row.
        return [*self.readonly_fields, "id"] if obj else list(self.readonly_fields)


class RoutingRuleForm(ApiValidatedForm):
    serializer_class = RoutingRuleInputSerializer
    # Not stripped, so a CEL error's line and column point into the text as typed.
    cel_expression = forms.CharField(widget=forms.Textarea, strip=False)

    class Meta:
        model = RoutingRule
        fields = "__all__"


@admin.register(RoutingRule)
class RoutingRuleAdmin(RuleTryMixin, admin.ModelAdmin):
    form = RoutingRuleForm
    list_display = ["name", "scope", "scope_id", "priority", "enabled", "updated_at", "resolver_link"]
    actions = ["try_rule"]
    list_filter = ["scope", "enabled"]
    search_fields = ["id", "name", "description", "cel_expression", "scope_id"]
    readonly_fields = ["id", "created_at", "updated_at"]
    ordering = ["priority", "created_at"]

from governance import admin_preferences  # noqa: E402,F401 - routing preferences and their config
from governance import admin_routes  # noqa: E402,F401 - routes and their provider nodes
