"""Admin for agents: status at a glance, expire or delete; agents register themselves, tokens never show."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from agents.models import Agent
from agents.services import agent_delete, agents_expire


DETAIL_FIELDS = ("name", "status", "endpoint", "models", "last_heartbeat", "registered_at", "provider_link")


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = ["name", "status", "last_heartbeat", "models_display", "provider_link", "endpoint"]
    list_filter = ["status"]
    list_select_related = ["provider"]
    search_fields = ["name", "endpoint"]
    fields = readonly_fields = DETAIL_FIELDS
    ordering = ["name"]
    actions = ["expire_now"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # agents register themselves with POST /register

    def has_change_permission(self, request: HttpRequest, obj: Agent | None = None) -> bool:
        return False  # the detail page is read-only; what an operator may do is expire or delete

    @admin.display(description="models")
    def models_display(self, agent: Agent) -> str:
        return ", ".join(agent.models)

    @admin.display(description="provider", ordering="provider__name")
    def provider_link(self, agent: Agent) -> str:
        url = reverse("admin:providers_provider_change", args=[agent.provider_id])
        state = "" if agent.provider.active else " (inactive)"
        return format_html('<a href="{}">{}</a>{}', url, agent.provider.name, state)

    @admin.action(description="Expire now (stop routing; the next heartbeat revives)")
    def expire_now(self, request: HttpRequest, queryset: QuerySet[Agent]) -> None:
        names = agents_expire(agents=queryset)
        if names:
            self.message_user(request, f"Expired {len(names)} agent(s): {', '.join(names)}.")
        else:
            self.message_user(request, "The selected agents were already expired.", messages.WARNING)

    def delete_model(self, request: HttpRequest, obj: Agent) -> None:
        agent_delete(agent=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Agent]) -> None:
        for agent in queryset.select_related("provider"):
            agent_delete(agent=agent)
