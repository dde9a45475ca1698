"""`manage.py remove_model NAME`: delete a model from the registry."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from providers.services import model_remove


class Command(BaseCommand):
    help = "Remove a model from the registry by name (any case)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("name")

    def handle(self, *args: Any, **options: Any) -> None:
        if not model_remove(name=options["name"]):
            raise CommandError(f"No model named '{options['name']}'.")
        self.stdout.write(f"Removed model {options['name']}.")
