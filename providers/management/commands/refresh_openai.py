"""`manage.py refresh_openai`: mirror OpenAI's /v1/models into the registry."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from providers.services import RegistryError, models_refresh_openai


class Command(BaseCommand):
    help = "Add OpenAI's listed models (source refresh); disable refreshed ones it no longer lists."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = models_refresh_openai()
        except RegistryError as exc:
            raise CommandError(f"Refresh failed, nothing changed: {exc}") from None
        self.stdout.write(
            f"OpenAI models: {result.created} created, {result.updated} updated, "
            f"{result.disabled} disabled, {result.skipped_manual} skipped (manual or agent)."
        )
