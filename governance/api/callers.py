"""Governance API for callers: customers, teams and virtual keys (a key's secret is shown once)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, cast

from django.db import IntegrityError
from django.db.models import Model, QuerySet
from django.shortcuts import get_object_or_404
from django.urls import URLPattern
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response

from governance.api.routing import both_slashes
from governance.models import Customer, Team, VirtualKey
from governance.services.callers import (
    caller_name_conflict,
    customer_create,
    customer_delete,
    customer_update,
    team_create,
    team_delete,
    team_update,
    virtual_key_create,
    virtual_key_delete,
    virtual_key_owner_conflict,
    virtual_key_rotate,
    virtual_key_update,
)


class _CallerInputSerializer(serializers.Serializer):
    """A create or update body: names are unique ignoring case; an update keeps omitted fields."""

    model: ClassVar[type[Model]]

    name = serializers.CharField(max_length=200)

    def validate_name(self, value: str) -> str:
        exclude_pk = self.instance.pk if self.instance is not None else None
        if problem := caller_name_conflict(model=self.model, name=value, exclude_pk=exclude_pk):
            raise serializers.ValidationError(problem)
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is not None:
            for field in self.fields.values():
                source = cast(str, field.source)  # bound fields: bind() defaults it to the field name
                attrs.setdefault(source, getattr(self.instance, source))
        return attrs


def _reference(model: type[Model], source: str) -> serializers.PrimaryKeyRelatedField:
    return serializers.PrimaryKeyRelatedField(
        source=source, queryset=model._default_manager.all(), required=False, allow_null=True,
        error_messages={"does_not_exist": f"Unknown {model._meta.verbose_name} '{{pk_value}}'."},
        help_text=f"Id of the {model._meta.verbose_name}, or null.",
    )


class CustomerInputSerializer(_CallerInputSerializer):
    model = Customer


class TeamInputSerializer(_CallerInputSerializer):
    model = Team
    customer_id = _reference(Customer, "customer")


class VirtualKeyInputSerializer(_CallerInputSerializer):
    model = VirtualKey
    team_id = _reference(Team, "team")
    customer_id = _reference(Customer, "customer")
    active = serializers.BooleanField(required=False, default=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        problem = virtual_key_owner_conflict(team=attrs.get("team"), customer=attrs.get("customer"))
        if problem:
            raise serializers.ValidationError({"customer_id": [problem]})
        return attrs


@extend_schema_serializer(component_name="Customer")
class CustomerOutputSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    created_at = serializers.DateTimeField()


@extend_schema_serializer(component_name="Team")
class TeamOutputSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    customer_id = serializers.CharField(allow_null=True)
    customer_name = serializers.CharField(source="customer.name", allow_null=True, default=None)
    created_at = serializers.DateTimeField()


@extend_schema_serializer(component_name="VirtualKey")
class VirtualKeyOutputSerializer(serializers.Serializer):
    """A key as listed: recognisable by its prefix; the secret and its digest are never included."""

    id = serializers.CharField()
    name = serializers.CharField()
    key_prefix = serializers.CharField()
    team_id = serializers.CharField(allow_null=True)
    customer_id = serializers.CharField(allow_null=True)
    active = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class _CallerViewSet(viewsets.ViewSet):
    """List, get, create, update (omitted fields unchanged) and delete one kind of caller row."""

    permission_classes = [IsAdminUser]
    model: ClassVar[type[Model]]
    entity: ClassVar[str]  # the response key for one row
    plural: ClassVar[str]  # the response key for the list
    input_serializer: ClassVar[type[_CallerInputSerializer]]
    output_serializer: ClassVar[type[serializers.Serializer]]
    # Services, bound per subclass with staticmethod (plain functions, not methods).
    create_service: ClassVar[Callable[..., Any]]
    update_service: ClassVar[Callable[..., Any]]
    delete_service: ClassVar[Callable[..., Any]]

    def get_queryset(self) -> QuerySet[Any]:
        return self.model._default_manager.all()

    def get_object(self) -> Any:
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])

    def validated(self, request: Request, instance: Model | None = None) -> dict[str, Any]:
        partial = instance is not None
        serializer = self.input_serializer(instance, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def write(self, service: Callable[..., Any], **kwargs: Any) -> Any:
        """Call a service; a name taken by a concurrent request still answers 400 on `name`."""
        try:
            return service(**kwargs)
        except IntegrityError:
            name = kwargs.get("name", "")
            problem = caller_name_conflict(model=self.model, name=name) or f"'{name}' is taken."
            raise serializers.ValidationError({"name": [problem]}) from None

    def label(self, row: Any) -> str:
        # Options sets verbose_name when the model class is built (from its name, none override it)
        name = cast(str, self.model._meta.verbose_name)
        return f"{name.capitalize()} '{row.name}'"

    def list(self, request: Request) -> Response:
        rows = self.output_serializer(self.get_queryset(), many=True).data
        return Response({self.plural: rows, "count": len(rows)})

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response({self.entity: self.output_serializer(self.get_object()).data})

    def create(self, request: Request) -> Response:
        row = self.write(self.create_service, **self.validated(request))
        return self.answer(f"{self.label(row)} created.", row, status.HTTP_201_CREATED)

    def update(self, request: Request, pk: str) -> Response:
        row = self.get_object()
        changes = self.validated(request, row)
        row = self.write(self.update_service, **{self.entity: row}, **changes)
        return self.answer(f"{self.label(row)} updated.", row)

    def destroy(self, request: Request, pk: str) -> Response:
        row = self.get_object()
        self.delete_service(**{self.entity: row})
        return Response({"message": f"{self.label(row)} deleted."})

    def answer(self, message: str, row: Any, code: int = 200, **extra: Any) -> Response:
        body = {"message": message, self.entity: self.output_serializer(row).data, **extra}
        return Response(body, status=code)


def _documented(view: type[_CallerViewSet]) -> type[_CallerViewSet]:
    """Attach OpenAPI docs: each response wraps rows in the entity's key, as the API answers."""
    secret_on_write = hasattr(view, "rotate")  # virtual keys: create and rotate return the secret
    name, entity, plural = view.model.__name__, view.entity, view.plural
    label = view.model._meta.verbose_name
    out, inp = view.output_serializer, view.input_serializer

    def envelope(suffix: str, fields: dict[str, serializers.Field]) -> Any:
        body = inline_serializer(name=f"{name}{suffix}", fields=fields)
        extend_schema_serializer(many=False)(type(body))  # one object, even for `list`
        return body

    def written(suffix: str, with_secret: bool) -> Any:
        fields: dict[str, serializers.Field] = {"message": serializers.CharField(), entity: out()}
        if with_secret:
            fields["key"] = serializers.CharField(help_text="The secret: shown here only.")
        return envelope(suffix, fields)

    def doc(description: str, **kwargs: Any) -> Any:
        return extend_schema(tags=[plural.replace("_", "-")], description=description, **kwargs)

    bad = OpenApiResponse(description="Invalid input; the body names each rejected field.")
    missing = OpenApiResponse(description=f"No {label} with this id.")
    docs = {
        "list": doc(f"Every {label}, by name.", responses=envelope(
            "List", {plural: out(many=True), "count": serializers.IntegerField()})),
        "retrieve": doc(f"One {label}.",
                        responses={200: envelope("Detail", {entity: out()}), 404: missing}),
        "create": doc(f"Create a {label}; names are unique ignoring case.", request=inp,
                      responses={201: written("Created", secret_on_write), 400: bad}),
        "update": doc("Update the given fields; omitted fields keep their value.",
                      request=inp(partial=True),
                      responses={200: written("Updated", False), 400: bad, 404: missing}),
        "destroy": doc(f"Delete a {label}.", responses={
            200: envelope("Deleted", {"message": serializers.CharField()}), 404: missing}),
    }
    if secret_on_write:
        docs["rotate"] = doc(
            "Issue a new secret (shown once); the old one stops working.",
            request=None, operation_id="governance_virtual_keys_rotate",
            responses={200: written("Rotated", True), 404: missing})
    return extend_schema_view(**docs)(view)


@_documented
class CustomerViewSet(_CallerViewSet):
    model = Customer
    entity, plural = "customer", "customers"
    input_serializer, output_serializer = CustomerInputSerializer, CustomerOutputSerializer
    create_service = staticmethod(customer_create)
    update_service = staticmethod(customer_update)
    delete_service = staticmethod(customer_delete)


@_documented
class TeamViewSet(_CallerViewSet):
    model = Team
    entity, plural = "team", "teams"
    input_serializer, output_serializer = TeamInputSerializer, TeamOutputSerializer
    create_service = staticmethod(team_create)
    update_service = staticmethod(team_update)
    delete_service = staticmethod(team_delete)

    def get_queryset(self) -> QuerySet[Team]:
        return Team.objects.select_related("customer")


@_documented
class VirtualKeyViewSet(_CallerViewSet):
    model = VirtualKey
    entity, plural = "virtual_key", "virtual_keys"
    input_serializer, output_serializer = VirtualKeyInputSerializer, VirtualKeyOutputSerializer
    update_service = staticmethod(virtual_key_update)
    delete_service = staticmethod(virtual_key_delete)

    def create(self, request: Request) -> Response:
        key, secret = self.write(virtual_key_create, **self.validated(request))
        message = f"{self.label(key)} created. Store the key now: it is not shown again."
        return self.answer(message, key, status.HTTP_201_CREATED, key=secret)

    @action(detail=True, methods=["post"])
    def rotate(self, request: Request, pk: str) -> Response:
        key, secret = virtual_key_rotate(virtual_key=self.get_object())
        message = f"{self.label(key)} rotated. Store the new key now: it is not shown again."
        return self.answer(message, key, key=secret)


def _routes(prefix: str, view: type[_CallerViewSet]) -> list[URLPattern]:
    name = view.entity.replace("_", "-")
    return [
        *both_slashes(prefix, view, f"{name}-list", actions={"get": "list", "post": "create"}),
        *both_slashes(f"{prefix}/<str:pk>", view, f"{name}-detail",
                      actions={"get": "retrieve", "put": "update", "delete": "destroy"}),
    ]


urlpatterns: list[URLPattern] = [
    *_routes("customers", CustomerViewSet),
    *_routes("teams", TeamViewSet),
    *_routes("virtual-keys", VirtualKeyViewSet),
    *both_slashes("virtual-keys/<str:pk>/rotate", VirtualKeyViewSet, "virtual-key-rotate",
                  actions={"post": "rotate"}),
]
