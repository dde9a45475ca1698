"""`manage.py load_routing_config FILE`: check the routing-preferences YAML, then replace the stored set."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from governance.services.preferences import RoutingConfigError, routing_config_load


class Command(BaseCommand):
    help = (
        "Load the spec's routing config (version, model_providers, routing_preferences, routing) "
        "into the database, replacing every routing preference in one transaction. Nothing "
        "changes when the file is invalid."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            config, _ = routing_config_load(path=options["file"])
        except RoutingConfigError as exc:
            raise CommandError(f"{options['file']}: {exc}") from None
        self.stdout.write(
            f"Loaded {len(config.preferences)} routing preference(s) and "
            f"{len(config.model_providers)} model provider(s) from {options['file']}."
        )
