"""Governance API for agents (read-only, staff only): `/api/governance/agents[/<name>]`; tokens never leave."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.urls import URLPattern, path
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import serializers, viewsets
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response

from agents.models import Agent
from agents.selectors import agent_get, agent_list


@extend_schema_serializer(component_name="Agent")
class AgentOutputSerializer(serializers.Serializer):
    """An agent as listed: neither its token nor the token's digest is included."""

    name = serializers.CharField()
    endpoint = serializers.CharField()
    status = serializers.ChoiceField(choices=Agent.Status.choices)
    last_heartbeat = serializers.DateTimeField()
    registered_at = serializers.DateTimeField()
    models = serializers.ListField(child=serializers.CharField())
    provider = serializers.CharField(source="provider.name", help_text="The provider routing to it.")


class AgentViewSet(viewsets.ViewSet):
    """Agents with their status; they register themselves (POST /register), so nothing is written here."""

    permission_classes = [IsAdminUser]
    lookup_field = "name"

    @extend_schema(
        tags=["agents"], description="Every agent, by name.",
        parameters=[OpenApiParameter("status", str, enum=Agent.Status.values, description="Only these.")],
        responses=inline_serializer("AgentList", {
            "agents": AgentOutputSerializer(many=True), "count": serializers.IntegerField(),
        }),
    )
    def list(self, request: Request) -> Response:
        status = request.query_params.get("status")
        if status is not None and status not in Agent.Status.values:
            raise serializers.ValidationError({"status": [f"Use one of {', '.join(Agent.Status.values)}."]})
        rows = AgentOutputSerializer(agent_list(status=status), many=True).data
        return Response({"agents": rows, "count": len(rows)})

    @extend_schema(
        tags=["agents"], description="One agent (the name matches in any case).",
        responses={
            200: inline_serializer("AgentDetail", {"agent": AgentOutputSerializer()}),
            404: OpenApiResponse(description="No agent with this name."),
        },
    )
    def retrieve(self, request: Request, name: str) -> Response:
        agent = agent_get(name=name)
        if agent is None:
            raise Http404(f"No agent named '{name}'.")
        return Response({"agent": AgentOutputSerializer(agent).data})


def _both_slashes(route: str, actions: dict[str, Any], name: str) -> list[URLPattern]:
    """`route` and `route/` serve the same view; only the first is in the schema."""
    return [
        path(route, AgentViewSet.as_view(actions), name=name),
        path(f"{route}/", AgentViewSet.as_view(actions, schema=None)),
    ]


urlpatterns: list[URLPattern] = [
    *_both_slashes("agents", {"get": "list"}, "agent-list"),
    *_both_slashes("agents/<str:name>", {"get": "retrieve"}, "agent-detail"),
]
