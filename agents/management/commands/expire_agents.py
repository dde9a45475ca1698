"""`manage.py expire_agents`: the beat task's sweep, for deployments without Celery (cron, a loop)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from agents.services import agents_expire_stale


class Command(BaseCommand):
    help = "Mark agents silent for longer than AGENT_HEARTBEAT_TIMEOUT expired; stop routing their models."

    def handle(self, *args: Any, **options: Any) -> None:
        names = agents_expire_stale()
        timeout = settings.AGENT_HEARTBEAT_TIMEOUT
        if names:
            self.stdout.write(f"Expired {len(names)} agent(s) silent for over {timeout:g} s: {', '.join(names)}.")
        else:
            self.stdout.write(f"No agent has been silent for over {timeout:g} s.")
