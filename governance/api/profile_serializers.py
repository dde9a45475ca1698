"""Routing-profile serializers shared by the create, update, import and export APIs."""

from __future__ import annotations

from typing import Any

from django.core.validators import RegexValidator
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from governance.api.fields import NumberField, StrictIntegerField, choice_list
from governance.models import RoutingProfile
from governance.selectors.providers import provider_names_real
from providers.models import provider_name_validator

# `tools` is accepted so configs can say it, but the resolver filters on text and vision only.
CAPABILITIES = ("text", "vision", "tools")
REQUEST_TYPES = ("chat",)  # the only request type the data plane serves today
RESERVED_IDS = {"export", "import", "simulate"}  # those paths would shadow such a profile
id_validator = RegexValidator(r"^[A-Za-z0-9._-]+$", "Use letters, digits, '.', '_' or '-'.")


def repeats(values: list[str]) -> dict[int, int]:
    """Index of each repeated value → index of its first occurrence (empty values never repeat)."""
    first: dict[str, int] = {}
    return {i: first[v] for i, v in enumerate(values) if v and first.setdefault(v, i) != i}


@extend_schema_serializer(component_name="RoutingProfileTarget")
class TargetSerializer(serializers.Serializer):
    provider = serializers.CharField(max_length=63)
    model = serializers.CharField(
        max_length=200, allow_blank=True, default="", help_text="Empty keeps the requested model."
    )
    virtual_model = serializers.CharField(
        max_length=200, allow_blank=True, default="",
        help_text="The alias served; empty or '*' serve any alias of the profile.",
    )
    priority = StrictIntegerField(default=0, help_text="Lower goes first.")
    weight = NumberField(min_value=0, default=1.0, help_text="Share of traffic when weighted.")
    capabilities = choice_list(CAPABILITIES)
    request_types = choice_list(REQUEST_TYPES)
    enabled = serializers.BooleanField(default=True)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        """Unknown keys are refused by name, so a misspelt `modle` is not silently dropped."""
        if isinstance(data, dict) and (unknown := sorted(set(data) - set(self.fields))):
            message = f"Unknown field; expected one of {', '.join(self.fields)}."
            raise ValidationError({name: [message] for name in unknown})
        return super().to_internal_value(data)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["virtual_model"] and not attrs["model"]:
            raise ValidationError({"model": ["Required when virtual_model is set."]})
        for name in ("capabilities", "request_types"):
            attrs[name] = list(dict.fromkeys(attrs[name]))
        return attrs


@extend_schema_serializer(component_name="RoutingProfileInput")
class ProfileInputSerializer(serializers.Serializer):
    """A profile as clients write it. Context `importing`: it replaces every stored profile."""

    id = serializers.CharField(max_length=100, validators=[id_validator])
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(allow_blank=True, default="")
    virtual_provider = serializers.CharField(max_length=63, validators=[provider_name_validator])
    strategy = serializers.ChoiceField(
        choices=RoutingProfile.Strategy.choices, default=RoutingProfile.Strategy.ORDERED_FAILOVER
    )
    enabled = serializers.BooleanField(default=True)
    targets = TargetSerializer(many=True, allow_empty=False)

    def _others(self) -> QuerySet[RoutingProfile] | None:
        """Stored profiles this one must not clash with; None when importing a replacement set."""
        if self.context.get("importing"):
            return None
        if self.instance is not None:
            return RoutingProfile.objects.exclude(pk=self.instance.pk)
        return RoutingProfile.objects.all()

    def _taken(self, **lookup: str) -> bool:
        others = self._others()
        return others is not None and others.filter(**lookup).exists()

    def validate_id(self, value: str) -> str:
        if value.lower() in RESERVED_IDS:
            raise ValidationError(f"'{value}' is reserved by the API's own paths.")
        if self.instance is not None and value != self.instance.pk:
            raise ValidationError("Must match the id in the URL.")
        if self.instance is None and self._taken(pk=value):
            raise ValidationError("A routing profile with this id already exists.")
        return value

    def validate_name(self, value: str) -> str:
        if self._taken(name__iexact=value):
            raise ValidationError("A routing profile with this name already exists.")
        return value

    def validate_virtual_provider(self, value: str) -> str:
        if value.lower() == "route":
            raise ValidationError("'route' is reserved: `route/<name>` names a route.")
        if value.lower() in provider_names_real():
            raise ValidationError(f"'{value}' names a real provider; a virtual one must differ.")
        if self._taken(virtual_provider__iexact=value):
            raise ValidationError("A routing profile with this virtual_provider already exists.")
        return value

    def validate_targets(self, targets: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """A named alias belongs to one target, and never shares a profile with '*'."""
        aliases = [t["virtual_model"] for t in targets]
        named = [a.lower() if a != "*" else "" for a in aliases]
        errors = {i: [f"Alias '{aliases[i]}' is already used by target {first}."]
                  for i, first in repeats(named).items()}
        if any(named):
            errors.update((i, ["'*' cannot be mixed with named aliases in one profile."])
                          for i, alias in enumerate(aliases) if alias == "*")
        if errors:
            detail = {i: {"virtual_model": errors[i]} for i in sorted(errors)}
            raise ValidationError(detail)  # type: ignore[arg-type]  # DRF keys list items by int; stubs: str
        return targets


class ProfileSetSerializer(serializers.ListSerializer):
    """A whole set of profiles (import): ids, names and virtual providers unique within it."""

    def validate(self, profiles: list[dict[str, Any]]) -> list[dict[str, Any]]:
        errors: dict[int, dict[str, list[str]]] = {}
        for field in ("id", "name", "virtual_provider"):
            values = [p[field] if field == "id" else p[field].lower() for p in profiles]
            for i, first in repeats(values).items():
                errors.setdefault(i, {})[field] = [f"Repeats profile {first} of the imported set."]
        if errors:
            detail = {i: errors[i] for i in sorted(errors)}
            raise ValidationError(detail)  # type: ignore[arg-type]  # DRF keys list items by int; stubs: str
        return profiles


@extend_schema_serializer(component_name="RoutingProfileConfig")
class ProfileConfigSerializer(serializers.ModelSerializer):
    """A profile as config (export); ProfileOutputSerializer adds the timestamps."""

    targets = TargetSerializer(many=True)

    class Meta:
        model = RoutingProfile
        fields: tuple[str, ...] = ("id", "name", "description", "virtual_provider", "strategy", "enabled",
                                   "targets")


@extend_schema_serializer(component_name="RoutingProfile")
class ProfileOutputSerializer(ProfileConfigSerializer):
    class Meta(ProfileConfigSerializer.Meta):
        fields = (*ProfileConfigSerializer.Meta.fields, "created_at", "updated_at")
