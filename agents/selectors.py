"""Agent reads for the governance API and the admin."""

from __future__ import annotations

from django.db.models import QuerySet

from agents.models import Agent


def agent_list(*, status: str | None = None) -> QuerySet[Agent]:
    """Agents by name with their provider; `status` (alive / expired) filters when given."""
    agents = Agent.objects.select_related("provider").order_by("name")
    return agents.filter(status=status) if status else agents


def agent_get(*, name: str) -> Agent | None:
    """The agent called `name` (any case), or None."""
    return agent_list().filter(name__iexact=name).first()
