"""`manage.py add_model NAME TYPE ENDPOINT KIND`: register (or update) a model by hand."""

from __future__ import annotations

from argparse import ArgumentParser
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from providers.services import RegistryError, model_add


def _csv(value: str) -> list[str]:
    return [part for part in (p.strip() for p in value.split(",")) if part]


class Command(BaseCommand):
    help = "Add or update a model: add_model local_mistral local http://localhost:5000 weight"

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("name", help="Name clients ask for, e.g. gpt-4o or meta-llama/Llama-3")
        parser.add_argument("type", help="Provider type: local, openai, anthropic, google, ...")
        parser.add_argument("endpoint", help="Base URL of the provider ('' for the type's default)")
        parser.add_argument("kind", help="api or weight")
        parser.add_argument("--upstream-name", default="", help="Model id sent upstream")
        parser.add_argument("--capabilities", type=_csv, help="Comma list, e.g. text,vision,tools")
        parser.add_argument("--context-window", type=int)
        parser.add_argument("--input-price", type=Decimal, help="USD per 1M input tokens")
        parser.add_argument("--output-price", type=Decimal, help="USD per 1M output tokens")
        parser.add_argument(
            "--fallback", action="append", dest="fallbacks", help="Model tried next (repeatable)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            model = model_add(
                name=options["name"], type=options["type"], endpoint=options["endpoint"],
                kind=options["kind"], upstream_name=options["upstream_name"],
                capabilities=options["capabilities"], context_window=options["context_window"],
                input_price=options["input_price"], output_price=options["output_price"],
                fallbacks=options["fallbacks"],
            )
        except RegistryError as exc:
            raise CommandError(str(exc)) from None
        provider = model.provider.name
        self.stdout.write(f"Saved model {model.name} (provider {provider}, kind {model.kind}).")
