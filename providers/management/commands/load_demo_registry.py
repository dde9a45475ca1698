"""`manage.py load_demo_registry`: the small demo registry `make dev` starts with."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from providers.services import demo_registry_load


class Command(BaseCommand):
    help = "Add the demo models that are missing; rows that already exist are left alone."

    def handle(self, *args: Any, **options: Any) -> None:
        added = demo_registry_load()
        self.stdout.write(f"Demo registry: {added} model(s) added, existing rows left alone.")
