"""Routing-rule serializers (Bifrost's shape), shared by the API and the admin's rule form."""

from __future__ import annotations

import math
from typing import Any

from django.db.models import Model
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from governance.api.fields import FallbackField, WeightField
from governance.cel import CelError, compile_expression
from governance.models import Customer, RoutingRule, Team, VirtualKey
from governance.selectors.providers import provider_names_known

WEIGHT_TOLERANCE = 1e-6
SCOPE_TABLES: dict[str, tuple[type[Model], str]] = {
    RoutingRule.Scope.TEAM: (Team, "Team"),
    RoutingRule.Scope.CUSTOMER: (Customer, "Customer"),
    RoutingRule.Scope.VIRTUAL_KEY: (VirtualKey, "Virtual key"),
}


@extend_schema_serializer(component_name="RoutingRuleTarget")
class RuleTargetSerializer(serializers.Serializer):
    weight = WeightField()
    provider = serializers.CharField(max_length=63)
    model = serializers.CharField(default="", allow_blank=True, allow_null=True, max_length=200)
    key_id = serializers.CharField(default="", allow_blank=True, allow_null=True, max_length=200)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        return {**attrs, "model": attrs.get("model") or "", "key_id": attrs.get("key_id") or ""}


@extend_schema_serializer(component_name="RoutingRuleInput")
class RoutingRuleInputSerializer(serializers.Serializer):
    """The create / replace body; every rejection names its field and nothing is written."""

    scope = serializers.ChoiceField(choices=RoutingRule.Scope.choices)
    scope_id = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, max_length=64
    )
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    enabled = serializers.BooleanField(default=True)
    # Not trimmed: a CEL error's line and column must point into the text as sent.
    cel_expression = serializers.CharField(trim_whitespace=False)
    targets = RuleTargetSerializer(many=True, allow_empty=False)
    fallbacks = serializers.ListField(child=FallbackField(), required=False)
    priority = serializers.IntegerField()
    query = serializers.DictField(required=False, help_text="Visual rule tree, stored as sent")

    def validate_cel_expression(self, value: str) -> str:
        if not value.strip():
            raise ValidationError("This field may not be blank.")
        try:
            compile_expression(value)
        except CelError as exc:
            where = f" (line {exc.line}, column {exc.column})" if exc.line is not None else ""
            raise ValidationError(f"{exc.message}{where}") from None
        return value

    def validate_targets(self, targets: list[dict[str, Any]]) -> list[dict[str, Any]]:
        known = provider_names_known()
        unknown = {  # DRF's shape for errors in list items: {index: {field: [...]}}
            i: {"provider": [f"Unknown provider '{t['provider']}': "
                             "not a provider or a routing profile's virtual provider."]}
            for i, t in enumerate(targets) if t["provider"].lower() not in known
        }
        if unknown:
            raise ValidationError(unknown)  # type: ignore[arg-type]  # DRF keys list items by int; stubs: str
        total = math.fsum(t["weight"] for t in targets)
        if abs(total - 1) > WEIGHT_TOLERANCE:
            raise ValidationError(f"Target weights must sum to 1; they sum to {total:g}.")
        return [dict(t) for t in targets]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        scope, scope_id = attrs["scope"], attrs.get("scope_id") or None
        if scope == RoutingRule.Scope.GLOBAL:
            if scope_id is not None:
                raise ValidationError({"scope_id": ["Must be empty for a global rule."]})
        elif scope_id is None:
            raise ValidationError({"scope_id": [f"Required when scope is '{scope}'."]})
        else:
            table, label = SCOPE_TABLES[scope]
            if not table._default_manager.filter(pk=scope_id).exists():
                raise ValidationError({"scope_id": [f"{label} '{scope_id}' not found."]})
        return {**attrs, "scope_id": scope_id}


@extend_schema_serializer(component_name="RoutingRule")
class RoutingRuleOutputSerializer(serializers.ModelSerializer):
    targets = RuleTargetSerializer(many=True)
    fallbacks = serializers.ListField(child=serializers.CharField())
    query = serializers.DictField()

    class Meta:
        model = RoutingRule
        fields = ["scope", "id", "name", "description", "enabled", "cel_expression", "targets",
                  "fallbacks", "scope_id", "priority", "query", "created_at", "updated_at"]
