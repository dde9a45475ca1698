"""Governance API: routing rules (CRUD, Bifrost's shape) and a simulator that runs the real resolver."""

from __future__ import annotations

import math
from typing import Any

import orjson
from django.db.models import Model
from django.urls import URLPattern, path
from drf_spectacular.utils import extend_schema, extend_schema_serializer, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from gateway.dataplane.errors import InvalidRequest, ModelNotFound
from gateway.dataplane.resolver import ANONYMOUS, Resolution, order, resolve
from gateway.dataplane.validation import ChatRequest, parse_chat_request
from governance.cel import Caller, CelError, compile_expression
from governance.config_version import read_version
from governance.keys import hash_key
from governance.models import Customer, RoutingProfile, RoutingRule, Team, VirtualKey
from governance.services.rules import rule_create, rule_delete, rule_update
from governance.snapshot import Snapshot, compile_snapshot
from providers.catalog import PROVIDER_TYPES
from providers.models import Provider

TAGS = ["routing rules"]
WEIGHT_TOLERANCE = 1e-6
SCOPE_TABLES: dict[str, tuple[type[Model], str]] = {
    RoutingRule.Scope.TEAM: (Team, "Team"),
    RoutingRule.Scope.CUSTOMER: (Customer, "Customer"),
    RoutingRule.Scope.VIRTUAL_KEY: (VirtualKey, "Virtual key"),
}


def known_providers() -> set[str]:
    """Lower-cased names a target may use: provider types, Provider rows, profiles' virtual providers."""
    names = set(PROVIDER_TYPES)
    names.update(name.lower() for name in Provider.objects.values_list("name", flat=True))
    names.update(v.lower() for v in RoutingProfile.objects.values_list("virtual_provider", flat=True))
    return names


class WeightField(serializers.FloatField):
    """A JSON number in (0, 1]; strings and booleans are refused rather than coerced."""

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool) or not isinstance(data, (int, float)) or not math.isfinite(data):
            self.fail("invalid")
        if not 0 < data <= 1:
            raise ValidationError("Must be greater than 0 and at most 1.")
        return float(data)


class FallbackField(serializers.CharField):
    """`provider/model` with both parts non-empty; an error lands under the item's index."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str) or not all(part.strip() for part in data.partition("/")[::2]):
            raise ValidationError(f"Expected 'provider/model', got {orjson.dumps(data).decode()}.")
        return data


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
    scope_id = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=64)
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
        known = known_providers()
        unknown = {  # DRF's shape for errors in list items: {index: {field: [...]}}
            i: {"provider": [f"Unknown provider '{t['provider']}': "
                             "not a provider or a routing profile's virtual provider."]}
            for i, t in enumerate(targets) if t["provider"].lower() not in known
        }
        if unknown:
            raise ValidationError(unknown)
        total = math.fsum(t["weight"] for t in targets)
        if abs(total - 1) > WEIGHT_TOLERANCE:
            raise ValidationError(f"Target weights must sum to 1; they sum to {total:g}.")
        return [dict(t) for t in targets]

    def validate_fallbacks(self, fallbacks: list[Any]) -> list[str]:
        problems = [
            f"fallbacks[{i}]: expected 'provider/model', got {orjson.dumps(item).decode()}."
            for i, item in enumerate(fallbacks)
            if not isinstance(item, str) or not all(part.strip() for part in item.partition("/")[::2])
        ]
        if problems:
            raise ValidationError(problems)
        return fallbacks

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


def envelope_schema(name: str) -> serializers.Serializer:
    fields = {"message": serializers.CharField(), "rule": RoutingRuleOutputSerializer()}
    return inline_serializer(name, fields)


def envelope(message: str, rule: RoutingRule) -> dict[str, Any]:
    return {"message": message, "rule": RoutingRuleOutputSerializer(rule).data}


MESSAGE = inline_serializer("RoutingRuleMessage", {"message": serializers.CharField()})
NOT_FOUND = inline_serializer("RoutingRuleNotFound", {"detail": serializers.CharField()})
DETAIL = inline_serializer("RoutingRuleDetail", {"rule": RoutingRuleOutputSerializer()})
PAIR = {"provider": serializers.CharField(), "model": serializers.CharField()}
SIMULATION = inline_serializer("RoutingRuleSimulationResult", {
    "matched_rule": inline_serializer("RoutingRuleMatch", {
        "id": serializers.CharField(), "name": serializers.CharField(),
        "scope": serializers.CharField(), "priority": serializers.IntegerField()}, allow_null=True),
    "route": serializers.CharField(help_text="The step that decided: rule, profile, registry, provider, ..."),
    "candidates": inline_serializer("RoutingRuleCandidate", PAIR, many=True),
    "primary": inline_serializer("RoutingRulePrimary", PAIR, allow_null=True),
    "fallbacks": inline_serializer("RoutingRuleFallback", PAIR, many=True),
    "skipped": inline_serializer("RoutingRuleSkipped", {
        "target": serializers.CharField(), "reason": serializers.CharField()}, many=True),
    "error": serializers.CharField(required=False, help_text="Set when no model matches (the data plane's 404)"),
})


def get_rule(rule_id: str) -> RoutingRule:
    rule = RoutingRule.objects.filter(pk=rule_id).first()
    if rule is None:
        raise NotFound(f"Routing rule '{rule_id}' not found.")
    return rule


def validated_input(request: Request) -> dict[str, Any]:
    serializer = RoutingRuleInputSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class RoutingRuleListCreateApi(APIView):
    class FilterSerializer(serializers.Serializer):
        scope = serializers.ChoiceField(choices=RoutingRule.Scope.choices, required=False)
        scope_id = serializers.CharField(required=False)
        enabled = serializers.BooleanField(required=False)

    @extend_schema(tags=TAGS, operation_id="routing_rules_list", parameters=[FilterSerializer],
                   responses=inline_serializer("RoutingRuleList", {
                       "rules": RoutingRuleOutputSerializer(many=True), "count": serializers.IntegerField()}))
    def get(self, request: Request) -> Response:
        # A plain dict: on a QueryDict DRF reads an absent boolean as False.
        filters = self.FilterSerializer(data=request.query_params.dict())
        filters.is_valid(raise_exception=True)
        rows = RoutingRule.objects.filter(**filters.validated_data)
        rules = RoutingRuleOutputSerializer(rows, many=True).data
        return Response({"rules": rules, "count": len(rules)})

    @extend_schema(tags=TAGS, operation_id="routing_rules_create", request=RoutingRuleInputSerializer,
                   responses={201: envelope_schema("RoutingRuleCreated")})
    def post(self, request: Request) -> Response:
        rule = rule_create(data=validated_input(request))
        return Response(envelope("Routing rule created successfully", rule), status=201)


class RoutingRuleDetailApi(APIView):
    @extend_schema(tags=TAGS, operation_id="routing_rules_retrieve",
                   responses={200: DETAIL, 404: NOT_FOUND})
    def get(self, request: Request, rule_id: str) -> Response:
        return Response({"rule": RoutingRuleOutputSerializer(get_rule(rule_id)).data})

    @extend_schema(tags=TAGS, operation_id="routing_rules_replace", request=RoutingRuleInputSerializer,
                   responses={200: envelope_schema("RoutingRuleUpdated"), 404: NOT_FOUND})
    def put(self, request: Request, rule_id: str) -> Response:
        rule = rule_update(rule=get_rule(rule_id), data=validated_input(request))
        return Response(envelope("Routing rule updated successfully", rule))

    @extend_schema(tags=TAGS, operation_id="routing_rules_destroy", responses={200: MESSAGE, 404: NOT_FOUND})
    def delete(self, request: Request, rule_id: str) -> Response:
        rule_delete(rule=get_rule(rule_id))
        return Response({"message": "Routing rule deleted successfully"})


class RoutingRuleSimulateApi(APIView):
    """Which rule a request would match and the candidate chain, from a freshly compiled snapshot."""

    @extend_schema_serializer(component_name="RoutingRuleSimulation")
    class InputSerializer(serializers.Serializer):
        request = serializers.DictField(help_text="An OpenAI chat-completions body")
        virtual_key = serializers.CharField(required=False, help_text="A virtual key's secret")
        virtual_key_id = serializers.CharField(required=False)
        headers = serializers.DictField(child=serializers.CharField(allow_blank=True), default=dict)

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            if "virtual_key" in attrs and "virtual_key_id" in attrs:
                message = "Send either virtual_key or virtual_key_id, not both."
                raise ValidationError({"virtual_key_id": [message]})
            return attrs

    @extend_schema(tags=TAGS, operation_id="routing_rules_simulate", request=InputSerializer,
                   responses=SIMULATION)
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        snapshot = compile_snapshot(read_version())
        chat = simulated_request(data["request"])
        caller = simulated_caller(snapshot, data)
        headers = {name.lower(): value for name, value in data["headers"].items()}
        try:
            resolution = resolve(snapshot, chat, caller, headers)
        except ModelNotFound as exc:
            # A simulation answers "what would happen": a refusal is an answer, not a failed call.
            return Response({**simulation(Resolution(), chat), "error": exc.message})
        return Response(simulation(resolution, chat))


def simulated_request(body: dict[str, Any]) -> ChatRequest:
    try:
        return parse_chat_request(orjson.dumps(body))
    except InvalidRequest as exc:
        field = f"request.{exc.param}" if exc.param else "request"
        raise ValidationError({field: [exc.message]}) from None


def simulated_caller(snapshot: Snapshot, data: dict[str, Any]) -> Caller:
    if "virtual_key" in data:
        digest = hash_key(data["virtual_key"])
        caller = snapshot.keys.get(digest)
        if caller is None:
            why = "is revoked" if digest in snapshot.revoked_keys else "matches no virtual key"
            raise ValidationError({"virtual_key": [f"This key {why}."]})
        return caller
    if "virtual_key_id" in data:
        key_id = data["virtual_key_id"]
        caller = next((c for c in snapshot.keys.values() if c.key_id == key_id), None)
        if caller is None:
            raise ValidationError({"virtual_key_id": [f"No active virtual key has id '{key_id}'."]})
        return caller
    return ANONYMOUS


def simulation(resolution: Resolution, chat: ChatRequest) -> dict[str, Any]:
    """The outcome in the order the data plane would try it (open circuits last)."""
    if resolution.placeholder:
        candidates = [{"provider": "placeholder", "model": chat.model}]
    else:
        chain = order(resolution.candidates)
        candidates = [{"provider": c.provider.name, "model": c.model} for c in chain]
    rule = resolution.rule
    return {
        "matched_rule": None if rule is None else
        {"id": rule.id, "name": rule.name, "scope": rule.scope, "priority": rule.priority},
        "route": resolution.route,
        "candidates": candidates,
        "primary": candidates[0] if candidates else None,
        "fallbacks": candidates[1:],
        "skipped": [{"target": target, "reason": reason} for target, reason in resolution.skipped],
    }


def both_slashes(route: str, view: Any, name: str) -> list[URLPattern]:
    """`route` and `route/` serve the same view; only the first is in the schema."""
    return [path(route, view.as_view(), name=name), path(route + "/", view.as_view(schema=None))]


# `simulate` comes before `<rule_id>` so it is never taken for an id.
urlpatterns: list[URLPattern] = [
    *both_slashes("routing-rules", RoutingRuleListCreateApi, "routing-rules"),
    *both_slashes("routing-rules/simulate", RoutingRuleSimulateApi, "routing-rules-simulate"),
    *both_slashes("routing-rules/<str:rule_id>", RoutingRuleDetailApi, "routing-rule"),
]
