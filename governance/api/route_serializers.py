"""Route serializers in the spec's shape (camelCase: isActive, config.providerMode, nodes[].apiId)."""

from __future__ import annotations

import re
from typing import Any

from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from governance.api.fields import LowercaseChoiceField, StrictIntegerField
from governance.models import Route, RouteNode
from governance.services.route_checks import (
    MODES,
    STRATEGIES,
    NodeInput,
    RouteInput,
    RouteInvalid,
    route_check,
)

CONFIG_KEYS = ("providerMode", "selectedModels", "modelStrategy")
_ITEM = re.compile(r"nodes\[(\d+)\]\.(\w+)")


class NodeInputSerializer(serializers.Serializer):
    id = StrictIntegerField(required=False, help_text="An existing node of the route, kept.")
    apiId = StrictIntegerField(help_text="The provider's id (GET /api/governance/providers).")
    models = serializers.ListField(child=serializers.CharField(), default=list)
    strategy = LowercaseChoiceField(choices=STRATEGIES, default=RouteNode.Strategy.ROUND_ROBIN)
    priority = StrictIntegerField(default=0, min_value=0, help_text="Lower is tried first.")

    def node(self, attrs: dict[str, Any]) -> NodeInput:
        return NodeInput(attrs["apiId"], tuple(attrs["models"]), attrs["strategy"],
                         attrs["priority"], attrs.get("id"))


class ConfigSerializer(serializers.Serializer):
    providerMode = serializers.CharField(
        required=False, allow_blank=True, default="",
        help_text="Auto mode: 'all' or 'provider_<id>'; defaults to 'all' when models are selected.",
    )
    selectedModels = serializers.ListField(child=serializers.CharField(), default=list)
    modelStrategy = serializers.CharField(
        required=False, allow_blank=True, default="",
        help_text="'single' (1 model) or 'cycle' (2+); derived when left out.",
    )


def route_errors(errors: dict[str, list[str]]) -> dict[str, Any]:
    """route_check's paths as DRF's nested errors: {config: {selectedModels}}, {nodes: {1: {models}}}."""
    shaped: dict[str, Any] = {}
    items: dict[int, dict[str, list[str]]] = {}
    for path, messages in errors.items():
        head, _, rest = path.partition(".")
        if match := _ITEM.fullmatch(path):
            items.setdefault(int(match[1]), {})[match[2]] = messages
        elif rest:
            shaped.setdefault(head, {})[rest] = messages
        else:
            shaped[path] = messages
    if "nodes" in shaped:  # a list-level message: item messages join it, each with its path
        shaped["nodes"] += [f"{p}: {' '.join(m)}" for p, m in errors.items() if _ITEM.fullmatch(p)]
    elif items:
        shaped["nodes"] = items  # DRF's own shape for a nested list: item index → its errors
    return shaped


class RouteInputSerializer(serializers.Serializer):
    """The spec's create/update payload; its checks are governance's one route check."""

    name = serializers.CharField(max_length=100)
    slug = serializers.CharField(max_length=100, required=False, allow_blank=True, default="",
                                 help_text="Derived from the name when left out.")
    mode = LowercaseChoiceField(choices=MODES)
    isActive = serializers.BooleanField(default=True)
    config = ConfigSerializer(default=dict)
    nodes = NodeInputSerializer(many=True, default=list)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        config = attrs.get("config") or {}
        raw = self.initial_data.get("config") if isinstance(self.initial_data, dict) else None
        extra = {k: v for k, v in (raw or {}).items() if k not in CONFIG_KEYS} if isinstance(raw, dict) else {}
        node = NodeInputSerializer()
        data = RouteInput(
            name=attrs["name"], mode=attrs["mode"], slug=attrs["slug"], is_active=attrs["isActive"],
            provider_mode=config.get("providerMode", ""),
            selected_models=tuple(config.get("selectedModels", ())),
            model_strategy=config.get("modelStrategy", ""),
            nodes=tuple(node.node(n) for n in attrs["nodes"]), extra_config=extra,
        )
        try:
            return {"clean": route_check(data=data, route=self.instance)}
        except RouteInvalid as exc:
            raise ValidationError(route_errors(exc.errors)) from None


class NodeOutputSerializer(serializers.ModelSerializer):
    apiId = serializers.IntegerField(source="provider_id")
    apiName = serializers.CharField(source="provider.name", help_text="The provider's name.")
    models = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = RouteNode
        fields = ["id", "apiId", "apiName", "models", "strategy", "priority"]


class RouteOutputSerializer(serializers.ModelSerializer):
    isActive = serializers.BooleanField(source="is_active")
    config = serializers.DictField(help_text="{providerMode, selectedModels, modelStrategy}, or {}.")
    nodes = NodeOutputSerializer(many=True)
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")

    class Meta:
        model = Route
        fields = ["id", "name", "slug", "mode", "isActive", "config", "nodes", "createdAt", "updatedAt"]
