"""Governance API: routing rules (CRUD, Bifrost's shape) and a simulator that runs the real resolver."""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern
from drf_spectacular.utils import extend_schema, extend_schema_serializer, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.api.routing import both_slashes
from governance.api.rule_serializers import RoutingRuleInputSerializer, RoutingRuleOutputSerializer
from governance.models import RoutingRule
from governance.selectors.rules import rule_get, rule_list, rule_simulate
from governance.services.rules import rule_create, rule_delete, rule_update

TAGS = ["routing rules"]


def envelope_schema(name: str) -> serializers.Serializer:
    fields = {"message": serializers.CharField(), "rule": RoutingRuleOutputSerializer()}
    return inline_serializer(name, fields)


def envelope(message: str, rule: RoutingRule) -> dict[str, Any]:
    return {"message": message, "rule": RoutingRuleOutputSerializer(rule).data}


MESSAGE = inline_serializer("RoutingRuleMessage", {"message": serializers.CharField()})
NOT_FOUND = inline_serializer("RoutingRuleNotFound", {"detail": serializers.CharField()})
DETAIL = inline_serializer("RoutingRuleDetail", {"rule": RoutingRuleOutputSerializer()})
PAIR: dict[str, serializers.Field] = {"provider": serializers.CharField(), "model": serializers.CharField()}
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
    rule = rule_get(rule_id=rule_id)
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
        rows = rule_list(filters=filters.validated_data)
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
        result = rule_simulate(
            body=data["request"], headers=data["headers"],
            virtual_key=data.get("virtual_key"), virtual_key_id=data.get("virtual_key_id"),
        )
        return Response(result)


# `simulate` comes before `<rule_id>` so it is never taken for an id.
urlpatterns: list[URLPattern] = [
    *both_slashes("routing-rules", RoutingRuleListCreateApi, "routing-rules"),
    *both_slashes("routing-rules/simulate", RoutingRuleSimulateApi, "routing-rules-simulate"),
    *both_slashes("routing-rules/<str:rule_id>", RoutingRuleDetailApi, "routing-rule"),
]
