"""Governance API: routes and their nodes (route-configuration.md), payloads exactly as the spec's form sends them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from django.http import Http404
from django.urls import URLPattern
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.api.route_serializers import (
    NodeInputSerializer,
    NodeOutputSerializer,
    RouteInputSerializer,
    RouteOutputSerializer,
    route_errors,
)
from governance.api.routing import both_slashes
from governance.models import Route, RouteNode
from governance.selectors.routes import route_get, route_list
from governance.services.route_checks import NodeInput, RouteInvalid, route_check, route_input
from governance.services.routes import route_create, route_delete, route_update

TAGS = ["routes"]
MESSAGE = serializers.CharField()
ROUTE_MESSAGE = inline_serializer("RouteMessage", {"message": MESSAGE, "route": RouteOutputSerializer()})
NODE_MESSAGE = inline_serializer("RouteNodeMessage", {
    "message": MESSAGE, "node": NodeOutputSerializer(), "route": RouteOutputSerializer(),
})
DELETED = inline_serializer("RouteDeleted", {"message": MESSAGE})


def _id(value: str | int) -> int:
    """A path id: the URL takes any text (so every path resolves), a non-number is simply not found."""
    if isinstance(value, int) or value.isdigit():
        return int(value)
    raise Http404(f"No such id: {value!r}.")


def _route(route_id: str | int) -> Route:
    route = route_get(route_id=_id(route_id))
    if route is None:
        raise Http404(f"No route with id {route_id}.")
    return route


def _route_body(message: str, route: Route) -> dict[str, Any]:
    return {"message": message, "route": RouteOutputSerializer(_route(route.pk)).data}


@contextmanager
def _as_400() -> Iterator[None]:
    """A write that lost a unique-name race answers like any other invalid save."""
    try:
        yield
    except RouteInvalid as exc:
        raise ValidationError(route_errors(exc.errors)) from None


class RouteListApi(APIView):
    @extend_schema(tags=TAGS, operation_id="routes_list", responses=inline_serializer(
        "RouteList", {"routes": RouteOutputSerializer(many=True), "count": serializers.IntegerField()}))
    def get(self, request: Request) -> Response:
        data = RouteOutputSerializer(route_list(), many=True).data
        return Response({"routes": data, "count": len(data)})

    @extend_schema(tags=TAGS, operation_id="routes_create", request=RouteInputSerializer,
                   responses={201: ROUTE_MESSAGE})
    def post(self, request: Request) -> Response:
        serializer = RouteInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with _as_400():
            route = route_create(clean=serializer.validated_data["clean"])
        return Response(_route_body("Route created", route), status=status.HTTP_201_CREATED)


class RouteDetailApi(APIView):
    @extend_schema(tags=TAGS, operation_id="routes_retrieve",
                   responses=inline_serializer("RouteDetail", {"route": RouteOutputSerializer()}))
    def get(self, request: Request, route_id: str) -> Response:
        return Response({"route": RouteOutputSerializer(_route(route_id)).data})

    @extend_schema(tags=TAGS, operation_id="routes_update", request=RouteInputSerializer,
                   responses=ROUTE_MESSAGE, description="Full replacement, nodes included.")
    def put(self, request: Request, route_id: str) -> Response:
        route = _route(route_id)
        serializer = RouteInputSerializer(route, data=request.data)
        serializer.is_valid(raise_exception=True)
        with _as_400():
            route = route_update(route=route, clean=serializer.validated_data["clean"])
        return Response(_route_body("Route updated", route))

    @extend_schema(tags=TAGS, operation_id="routes_destroy", responses=DELETED)
    def delete(self, request: Request, route_id: str) -> Response:
        route_delete(route=_route(route_id))
        return Response({"message": "Route deleted"})


def _node_index(route: Route, node_id: str | int) -> int:
    for i, node in enumerate(route.nodes.all()):
        if node.pk == _id(node_id):
            return i
    raise Http404(f"Route {route.pk} has no node {node_id}.")


def _save_nodes(route: Route, nodes: tuple[NodeInput, ...], index: int) -> Route:
    """Check the whole route with its new nodes, then store it; errors of node `index` are the body's."""
    data = replace(route_input(route), nodes=nodes)
    try:
        clean = route_check(data=data, route=route)
    except RouteInvalid as exc:
        prefix = f"nodes[{index}]."
        raise ValidationError({
            (path[len(prefix):] if path.startswith(prefix) else path): messages
            for path, messages in exc.errors.items()
        }) from None
    with _as_400():
        return route_update(route=route, clean=clean)


def _node_body(message: str, route: Route, node_id: int) -> dict[str, Any]:
    route = _route(route.pk)
    node = next(n for n in route.nodes.all() if n.pk == node_id)
    return {"message": message, "node": NodeOutputSerializer(node).data,
            "route": RouteOutputSerializer(route).data}


class RouteNodeListApi(APIView):
    @extend_schema(tags=TAGS, operation_id="route_nodes_list", responses=inline_serializer(
        "RouteNodeList", {"nodes": NodeOutputSerializer(many=True), "count": serializers.IntegerField()}))
    def get(self, request: Request, route_id: str) -> Response:
        data = NodeOutputSerializer(_route(route_id).nodes.all(), many=True).data
        return Response({"nodes": data, "count": len(data)})

    @extend_schema(tags=TAGS, operation_id="route_nodes_create", request=NodeInputSerializer,
                   responses={201: NODE_MESSAGE}, description="The whole route is checked again.")
    def post(self, request: Request, route_id: str) -> Response:
        route = _route(route_id)
        serializer = NodeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        node = replace(serializer.node(serializer.validated_data), id=None)
        nodes = route_input(route).nodes
        before = set(RouteNode.objects.filter(route=route).values_list("pk", flat=True))
        route = _save_nodes(route, (*nodes, node), len(nodes))
        created = RouteNode.objects.filter(route=route).exclude(pk__in=before).get()
        return Response(_node_body("Route node created", route, created.pk), status=status.HTTP_201_CREATED)


class RouteNodeDetailApi(APIView):
    @extend_schema(tags=TAGS, operation_id="route_nodes_retrieve",
                   responses=inline_serializer("RouteNodeDetail", {"node": NodeOutputSerializer()}))
    def get(self, request: Request, route_id: str, node_id: str) -> Response:
        route = _route(route_id)
        node = route.nodes.all()[_node_index(route, node_id)]
        return Response({"node": NodeOutputSerializer(node).data})

    @extend_schema(tags=TAGS, operation_id="route_nodes_update", request=NodeInputSerializer,
                   responses=NODE_MESSAGE, description="Full replacement of the node.")
    def put(self, request: Request, route_id: str, node_id: str) -> Response:
        route = _route(route_id)
        index = _node_index(route, node_id)
        serializer = NodeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        nodes = list(route_input(route).nodes)
        nodes[index] = replace(serializer.node(serializer.validated_data), id=_id(node_id))
        route = _save_nodes(route, tuple(nodes), index)
        return Response(_node_body("Route node updated", route, _id(node_id)))

    @extend_schema(tags=TAGS, operation_id="route_nodes_destroy", responses=DELETED)
    def delete(self, request: Request, route_id: str, node_id: str) -> Response:
        route = _route(route_id)
        index = _node_index(route, node_id)
        nodes = list(route_input(route).nodes)
        del nodes[index]
        _save_nodes(route, tuple(nodes), index)
        return Response({"message": "Route node deleted"})


urlpatterns: list[URLPattern] = [
    *both_slashes("routes", RouteListApi, "routes"),
    *both_slashes("routes/<str:route_id>", RouteDetailApi, "route"),
    *both_slashes("routes/<str:route_id>/nodes", RouteNodeListApi, "route-nodes"),
    *both_slashes("routes/<str:route_id>/nodes/<str:node_id>", RouteNodeDetailApi, "route-node"),
]
