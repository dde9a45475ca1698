"""`manage.py list_models`: the registry as an aligned table, or JSON with --json."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand

from providers.models import Model
from providers.selectors import model_list

COLUMNS = ("name", "provider", "type", "kind", "enabled", "source", "input $/1M", "output $/1M")


def _price(value: Decimal | None) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}" if value == value.quantize(Decimal("0.01")) else f"{value:.4f}"


def _as_dict(model: Model) -> dict[str, Any]:
    return {
        "name": model.name,
        "provider": model.provider.name,
        "type": model.provider.type,
        "kind": model.kind,
        "enabled": model.enabled,
        "source": model.source,
        "upstream_name": model.upstream_model,
        "capabilities": model.capabilities,
        "context_window": model.context_window,
        "input_price": float(model.input_price) if model.input_price is not None else None,
        "output_price": float(model.output_price) if model.output_price is not None else None,
        "fallbacks": model.fallbacks,
    }


def _row(model: Model) -> tuple[str, ...]:
    return (
        model.name, model.provider.name, model.provider.type, model.kind,
        "yes" if model.enabled else "no", model.source,
        _price(model.input_price), _price(model.output_price),
    )


class Command(BaseCommand):
    help = "List the registered models."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--json", action="store_true", help="Print a JSON list instead")

    def handle(self, *args: Any, **options: Any) -> None:
        models = list(model_list())
        if options["json"]:
            self.stdout.write(json.dumps([_as_dict(m) for m in models], indent=2))
            return
        if not models:
            self.stdout.write("No models registered.")
            return
        rows = [COLUMNS, *(_row(m) for m in models)]
        widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
        for row in rows:
            self.stdout.write("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
