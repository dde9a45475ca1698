"""Governance API: routing preferences (CRUD) and the routing config around them (GET/PUT)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import URLPattern
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.api.routing import both_slashes
from governance.models import RoutingPreference
from governance.selectors.preferences import declared_models, preference_list, routing_config_get
from governance.services.preferences import (
    PREFER,
    RoutingConfigError,
    check_config_change,
    check_model_providers,
    check_preference,
    check_version,
    preference_create,
    preference_delete,
    preference_update,
    routing_config_update,
)

TAGS = ["routing preferences"]
T = TypeVar("T")


def checked(call: Callable[[], T]) -> T:
    """Run a service check; its RoutingConfigError becomes DRF's 400 naming the field."""
    try:
        return call()
    except RoutingConfigError as exc:
        raise ValidationError({exc.field.lstrip("."): [exc.message]}) from None


class PreferenceOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = RoutingPreference
        fields = ["id", "name", "description", "models", "prefer", "examples", "enabled", "position",
                  "created_at", "updated_at"]


class PreferenceInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    description = serializers.CharField()
    models = serializers.ListField(child=serializers.CharField(), allow_empty=False)
    prefer = serializers.ChoiceField(choices=PREFER, default="none")
    examples = serializers.ListField(child=serializers.CharField(), default=list)
    enabled = serializers.BooleanField(default=True)
    position = serializers.IntegerField(min_value=0, required=False)

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        config = routing_config_get()
        checked(lambda: check_version(config.version, has_preferences=True))
        clean = checked(lambda: check_preference(data, "", declared_models(config)))
        others = RoutingPreference.objects.filter(name__iexact=clean["name"])
        if self.instance is not None:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise ValidationError({"name": ["A routing preference with this name already exists."]})
        return {**clean, **({"position": data["position"]} if "position" in data else {})}


class ConfigSerializer(serializers.Serializer):
    """The spec's shape: `access_key` is `$VARIABLE` (the name only: values are never stored)."""

    @staticmethod
    def _provider_out(item: dict[str, Any]) -> dict[str, Any]:
        key = f"${item['access_key_env']}" if item.get("access_key_env") else None
        return {"model": item["model"], "access_key": key, "default": bool(item.get("default"))}

    version = serializers.CharField()
    model_providers = serializers.ListField(child=serializers.DictField(), default=list)
    default_model = serializers.CharField(read_only=True)
    routing = inline_serializer("RoutingSessionSettings", {
        "session_ttl_seconds": serializers.IntegerField(min_value=1, default=600),
        "session_max_entries": serializers.IntegerField(min_value=1, default=10000),
    })

    def to_representation(self, config: Any) -> dict[str, Any]:
        return {
            "version": config.version,
            "model_providers": [self._provider_out(p) for p in config.model_providers or ()],
            "default_model": config.default_model,
            "routing": {"session_ttl_seconds": config.session_ttl_seconds,
                        "session_max_entries": config.session_max_entries},
        }

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        providers, default = checked(lambda: check_model_providers(data["model_providers"]))
        declared = frozenset(p["model"].lower() for p in providers)
        checked(lambda: check_config_change(version=data["version"], declared=declared))
        return {"version": data["version"].strip(), "model_providers": providers, "default_model": default,
                **data["routing"]}


def _preference(pk: str) -> RoutingPreference:
    if not pk.isdigit():
        raise Http404("No routing preference with this id.")
    return get_object_or_404(RoutingPreference, pk=int(pk))


class RoutingPreferenceListApi(APIView):
    @extend_schema(tags=TAGS, operation_id="routing_preferences_list", responses=inline_serializer(
        "RoutingPreferenceList", {"preferences": PreferenceOutputSerializer(many=True),
                                  "count": serializers.IntegerField()}))
    def get(self, request: Request) -> Response:
        data = PreferenceOutputSerializer(preference_list(), many=True).data
        return Response({"preferences": data, "count": len(data)})

    @extend_schema(tags=TAGS, operation_id="routing_preferences_create", request=PreferenceInputSerializer,
                   responses={201: PreferenceOutputSerializer})
    def post(self, request: Request) -> Response:
        serializer = PreferenceInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        preference = checked(lambda: preference_create(data=serializer.validated_data))
        return Response(PreferenceOutputSerializer(preference).data, status=status.HTTP_201_CREATED)


class RoutingPreferenceDetailApi(APIView):
    @extend_schema(tags=TAGS, operation_id="routing_preferences_retrieve", responses=PreferenceOutputSerializer)
    def get(self, request: Request, pk: str) -> Response:
        return Response(PreferenceOutputSerializer(_preference(pk)).data)

    @extend_schema(tags=TAGS, operation_id="routing_preferences_update", request=PreferenceInputSerializer,
                   responses=PreferenceOutputSerializer, description="Full replacement.")
    def put(self, request: Request, pk: str) -> Response:
        preference = _preference(pk)
        serializer = PreferenceInputSerializer(preference, data=request.data)
        serializer.is_valid(raise_exception=True)
        preference = checked(lambda: preference_update(preference=preference, data=serializer.validated_data))
        return Response(PreferenceOutputSerializer(preference).data)

    @extend_schema(tags=TAGS, operation_id="routing_preferences_destroy", responses={204: None})
    def delete(self, request: Request, pk: str) -> Response:
        preference_delete(preference=_preference(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class RoutingConfigApi(APIView):
    @extend_schema(tags=TAGS, operation_id="routing_config_retrieve", responses=ConfigSerializer)
    def get(self, request: Request) -> Response:
        return Response(ConfigSerializer(routing_config_get()).data)

    @extend_schema(tags=TAGS, operation_id="routing_config_update", request=ConfigSerializer,
                   responses=ConfigSerializer, description="Version, model_providers and session settings; "
                   "refused (400, nothing changed) when a preference would name an undeclared model.")
    def put(self, request: Request) -> Response:
        serializer = ConfigSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(ConfigSerializer(routing_config_update(data=serializer.validated_data)).data)


urlpatterns: list[URLPattern] = [
    *both_slashes("routing-preferences/config", RoutingConfigApi, "routing-preferences-config"),
    *both_slashes("routing-preferences", RoutingPreferenceListApi, "routing-preferences"),
    *both_slashes("routing-preferences/<str:pk>", RoutingPreferenceDetailApi, "routing-preference"),
]
