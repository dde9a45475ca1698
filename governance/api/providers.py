"""Governance API: providers (id, type, base URL, active, health; the key is write-only)."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import URLPattern
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from gateway.dataplane.health import health
from governance.api.fields import LowercaseChoiceField
from governance.api.routing import both_slashes
from governance.selectors.providers import provider_name_conflict
from governance.services.providers import (
    ProviderInUse,
    provider_create,
    provider_delete,
    provider_update,
)
from providers.catalog import KIND_API, PROVIDER_TYPES
from providers.models import KIND_CHOICES, Provider, provider_name_validator

TAGS = ["providers"]
HEALTH_HELP = ("Circuit breaker of the process that answered: healthy, degraded (recent failures) "
               "or open (skipped until CIRCUIT_OPEN_SECONDS pass). Each gateway process keeps its own.")


class ProviderInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=63, validators=[provider_name_validator])
    type = LowercaseChoiceField(choices=list(PROVIDER_TYPES))
    kind = LowercaseChoiceField(choices=[k for k, _ in KIND_CHOICES], default=KIND_API)
    base_url = serializers.URLField(max_length=500, required=False, allow_blank=True, default="",
                                    help_text="Empty: the type's *_BASE_URL setting.")
    active = serializers.BooleanField(default=True)
    api_key = serializers.CharField(
        max_length=500, required=False, allow_blank=True, allow_null=True, write_only=True,
        help_text="Write-only, never returned. Left out or null keeps the stored key; '' clears it.",
    )

    def validate_name(self, value: str) -> str:
        others = Provider.objects.filter(name__iexact=value)
        if self.instance is not None:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise serializers.ValidationError(f"A provider named '{value}' already exists (names ignore case).")
        if problem := provider_name_conflict(name=value):
            raise serializers.ValidationError(problem)
        return value


class ProviderOutputSerializer(serializers.ModelSerializer):
    health = serializers.SerializerMethodField(help_text=HEALTH_HELP)
    has_key = serializers.BooleanField(source="has_stored_key", help_text="A key is stored (never shown).")
    models = serializers.SerializerMethodField(help_text="Registry names of the models it serves.")

    class Meta:
        model = Provider
        fields = ["id", "name", "type", "kind", "base_url", "active", "health", "has_key", "models",
                  "created_at", "updated_at"]

    def get_health(self, provider: Provider) -> str:
        return health.state(provider.name)

    def get_models(self, provider: Provider) -> list[str]:
        return [m.name for m in provider.models.all()]


def _provider(provider_id: str | int) -> Provider:
    if not str(provider_id).isdigit():  # the URL takes any text; a non-number is simply not found
        raise Http404(f"No provider {provider_id!r}.")
    return get_object_or_404(Provider.objects.prefetch_related("models"), pk=int(provider_id))


def _body(message: str, provider: Provider) -> dict[str, Any]:
    return {"message": message, "provider": ProviderOutputSerializer(_provider(provider.pk)).data}


PROVIDER_MESSAGE = inline_serializer("ProviderMessage", {
    "message": serializers.CharField(), "provider": ProviderOutputSerializer(),
})


class ProviderListApi(APIView):
    @extend_schema(tags=TAGS, operation_id="providers_list", responses=inline_serializer(
        "ProviderList", {"providers": ProviderOutputSerializer(many=True), "count": serializers.IntegerField()}))
    def get(self, request: Request) -> Response:
        data = ProviderOutputSerializer(Provider.objects.prefetch_related("models"), many=True).data
        return Response({"providers": data, "count": len(data)})

    @extend_schema(tags=TAGS, operation_id="providers_create", request=ProviderInputSerializer,
                   responses={201: PROVIDER_MESSAGE})
    def post(self, request: Request) -> Response:
        serializer = ProviderInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        provider = provider_create(data=serializer.validated_data)
        return Response(_body("Provider created", provider), status=status.HTTP_201_CREATED)


class ProviderDetailApi(APIView):
    @extend_schema(tags=TAGS, operation_id="providers_retrieve", responses=inline_serializer(
        "ProviderDetail", {"provider": ProviderOutputSerializer()}))
    def get(self, request: Request, provider_id: str) -> Response:
        return Response({"provider": ProviderOutputSerializer(_provider(provider_id)).data})

    @extend_schema(tags=TAGS, operation_id="providers_update", request=ProviderInputSerializer,
                   responses=PROVIDER_MESSAGE)
    def put(self, request: Request, provider_id: str) -> Response:
        provider = _provider(provider_id)
        serializer = ProviderInputSerializer(provider, data=request.data)
        serializer.is_valid(raise_exception=True)
        provider = provider_update(provider=provider, data=serializer.validated_data)
        return Response(_body("Provider updated", provider))

    @extend_schema(tags=TAGS, operation_id="providers_destroy", responses={
        200: inline_serializer("ProviderDeleted", {"message": serializers.CharField()}),
        409: inline_serializer("ProviderInUse", {"detail": serializers.CharField()}),
    })
    def delete(self, request: Request, provider_id: str) -> Response:
        try:
            provider_delete(provider=_provider(provider_id))
        except ProviderInUse as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response({"message": "Provider deleted"})


urlpatterns: list[URLPattern] = [
    *both_slashes("providers", ProviderListApi, "providers"),
    *both_slashes("providers/<str:provider_id>", ProviderDetailApi, "provider"),
]
