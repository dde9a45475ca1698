"""Governance API: routing profiles (CRUD, export, import, simulate), as the spec describes."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from django.urls import URLPattern
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.api.fields import LowercaseChoiceField, choice_list
from governance.api.profile_serializers import (
    CAPABILITIES,
    REQUEST_TYPES,
    ProfileConfigSerializer,
    ProfileInputSerializer,
    ProfileOutputSerializer,
    ProfileSetSerializer,
)
from governance.api.routing import both_slashes
from governance.models import RoutingProfile
from governance.selectors.profiles import profile_simulate
from governance.services.profiles import (
    profile_create,
    profile_delete,
    profile_update,
    profiles_import,
)

TAGS = ["routing profiles"]


def envelope(name: str, **fields: serializers.Field) -> serializers.Serializer:
    return inline_serializer(name, fields)


MESSAGE = serializers.CharField()
PROFILE_RESPONSE = envelope(
    "RoutingProfileMessage", message=MESSAGE, profile=ProfileOutputSerializer()
)
NOT_FOUND = envelope("RoutingProfileNotFound", detail=serializers.CharField())


def _profile(profile_id: str) -> RoutingProfile:
    return get_object_or_404(RoutingProfile, pk=profile_id)


def _message(message: str, profile: RoutingProfile) -> dict[str, Any]:
    return {"message": message, "profile": ProfileOutputSerializer(profile).data}


class RoutingProfileListApi(APIView):
    @extend_schema(
        tags=TAGS, operation_id="routing_profiles_list",
        parameters=[OpenApiParameter("virtual_provider", str, description="Case-insensitive.")],
        responses=envelope("RoutingProfileList", profiles=ProfileOutputSerializer(many=True),
                           count=serializers.IntegerField()),
    )
    def get(self, request: Request) -> Response:
        profiles = RoutingProfile.objects.all()
        if virtual_provider := request.query_params.get("virtual_provider"):
            profiles = profiles.filter(virtual_provider__iexact=virtual_provider)
        data = ProfileOutputSerializer(profiles, many=True).data
        return Response({"profiles": data, "count": len(data)})

    @extend_schema(tags=TAGS, operation_id="routing_profiles_create",
                   request=ProfileInputSerializer, responses={201: PROFILE_RESPONSE})
    def post(self, request: Request) -> Response:
        serializer = ProfileInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        profile = profile_create(data=serializer.validated_data)
        body = _message("Routing profile created", profile)
        return Response(body, status=status.HTTP_201_CREATED)


class RoutingProfileDetailApi(APIView):
    @extend_schema(tags=TAGS, operation_id="routing_profiles_retrieve", responses={
        200: envelope("RoutingProfileDetail", profile=ProfileOutputSerializer()), 404: NOT_FOUND,
    })
    def get(self, request: Request, profile_id: str) -> Response:
        return Response({"profile": ProfileOutputSerializer(_profile(profile_id)).data})

    @extend_schema(
        tags=TAGS, operation_id="routing_profiles_update", request=ProfileInputSerializer,
        description="Full replacement; a body `id`, if given, must equal the path's.",
        responses={200: PROFILE_RESPONSE, 404: NOT_FOUND},
    )
    def put(self, request: Request, profile_id: str) -> Response:
        profile = _profile(profile_id)
        data = request.data
        if isinstance(data, dict):
            data = {"id": profile_id, **data}
        serializer = ProfileInputSerializer(profile, data=data)
        serializer.is_valid(raise_exception=True)
        profile = profile_update(profile=profile, data=serializer.validated_data)
        return Response(_message("Routing profile updated", profile))

    @extend_schema(tags=TAGS, operation_id="routing_profiles_destroy", responses={
        200: envelope("RoutingProfileDeleted", message=MESSAGE), 404: NOT_FOUND,
    })
    def delete(self, request: Request, profile_id: str) -> Response:
        profile_delete(profile=_profile(profile_id))
        return Response({"message": "Routing profile deleted"})


class RoutingProfileExportApi(APIView):
    @extend_schema_serializer(component_name="RoutingProfileExport")
    class OutputSerializer(serializers.Serializer):
        plugin = inline_serializer("RoutingProfilePlugin", {
            "name": serializers.CharField(),
            "enabled": serializers.BooleanField(),
            "config": inline_serializer("RoutingProfilePluginConfig", {
                "routing_profiles": ProfileConfigSerializer(many=True),
            }),
        })

    @extend_schema(tags=TAGS, operation_id="routing_profiles_export", responses=OutputSerializer)
    def get(self, request: Request) -> Response:
        profiles = ProfileConfigSerializer(RoutingProfile.objects.all(), many=True).data
        config = {"routing_profiles": profiles}
        return Response({"plugin": {"name": "governance", "enabled": True, "config": config}})


class RoutingProfileImportApi(APIView):
    @extend_schema_serializer(component_name="RoutingProfileImport")
    class InputSerializer(serializers.Serializer):
        routing_profiles = ProfileSetSerializer(child=ProfileInputSerializer())

        def to_internal_value(self, data: Any) -> dict[str, Any]:
            """Also accept the export's shape, `{plugin: {config: {routing_profiles}}}`."""
            if not isinstance(data, dict) or "routing_profiles" in data:
                return super().to_internal_value(data)
            plugin = data.get("plugin")
            config = plugin.get("config") if isinstance(plugin, dict) else None
            if isinstance(config, dict) and "routing_profiles" in config:
                data = {"routing_profiles": config["routing_profiles"]}
            return super().to_internal_value(data)

    @extend_schema(
        tags=TAGS, operation_id="routing_profiles_import", request=InputSerializer,
        description="Replaces the whole set atomically; any invalid profile answers 400 and "
        "changes nothing. Also accepts the export's shape, "
        "`{plugin: {config: {routing_profiles: [...]}}}`.",
        responses=envelope(
            "RoutingProfileImported", message=MESSAGE, count=serializers.IntegerField(),
            profiles=ProfileOutputSerializer(many=True),
        ),
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data, context={"importing": True})
        serializer.is_valid(raise_exception=True)
        profiles = profiles_import(profiles=serializer.validated_data["routing_profiles"])
        data = ProfileOutputSerializer(profiles, many=True).data
        body = {"message": "Routing profiles imported", "count": len(data), "profiles": data}
        return Response(body)


class RoutingProfileSimulateApi(APIView):
    @extend_schema_serializer(component_name="RoutingProfileSimulationInput")
    class InputSerializer(serializers.Serializer):
        model = serializers.CharField(help_text="`<virtual_provider>/<alias>`, e.g. light/light.")
        # A plain string: an enum here would give the request-type choice set a second name.
        request_type = serializers.CharField(default="chat", help_text="Only 'chat' today.")
        capabilities = choice_list(CAPABILITIES)

        def validate_request_type(self, value: str) -> str:
            return LowercaseChoiceField(choices=REQUEST_TYPES).run_validation(value)

        def validate_model(self, value: str) -> str:
            prefix, slash, alias = value.partition("/")
            if not (prefix and slash and alias):
                raise ValidationError("Use '<virtual_provider>/<alias>'.")
            return value

    @extend_schema_serializer(component_name="RoutingProfileSimulation")
    class OutputSerializer(serializers.Serializer):
        @extend_schema_serializer(component_name="RoutingProfileSimulationPick")
        class PickSerializer(serializers.Serializer):
            provider = serializers.CharField()
            model = serializers.CharField()

        @extend_schema_serializer(component_name="RoutingProfileSimulationCandidate")
        class CandidateSerializer(PickSerializer):
            priority = serializers.IntegerField()
            weight = serializers.FloatField()
            eligible = serializers.BooleanField()
            reason = serializers.CharField(allow_null=True, help_text="Why it is not eligible.")

        model = serializers.CharField()
        profile = inline_serializer("RoutingProfileSimulationProfile", {
            "id": serializers.CharField(), "name": serializers.CharField(),
            "virtual_provider": serializers.CharField(), "strategy": serializers.CharField(),
        }, allow_null=True)
        candidates = CandidateSerializer(many=True)
        primary = PickSerializer(allow_null=True)
        fallbacks = PickSerializer(many=True)

    @extend_schema(
        tags=TAGS, operation_id="routing_profiles_simulate", request=InputSerializer,
        responses=OutputSerializer,
        description="Runs the data plane's resolver on the current config; `text` is implied.",
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = profile_simulate(
            model=data["model"], request_type=data["request_type"],
            capabilities=frozenset(data["capabilities"]) | {"text"},
        )
        if result is None:
            message = f"No enabled routing profile serves '{data['model']}'."
            raise ValidationError({"model": [message]})
        return Response(self.OutputSerializer(result).data)


# The fixed paths come first so `export`, `import` and `simulate` are never taken for a profile id.
urlpatterns: list[URLPattern] = [
    *both_slashes("routing-profiles/export", RoutingProfileExportApi, "routing-profiles-export"),
    *both_slashes("routing-profiles/import", RoutingProfileImportApi, "routing-profiles-import"),
    *both_slashes(
        "routing-profiles/simulate", RoutingProfileSimulateApi, "routing-profiles-simulate"
    ),
    *both_slashes("routing-profiles", RoutingProfileListApi, "routing-profiles"),
    *both_slashes("routing-profiles/<str:profile_id>", RoutingProfileDetailApi, "routing-profile"),
]
