"""`manage.py create_api_token USERNAME`: print a governance-API token for a staff user."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from governance.services.callers import ApiTokenError, api_token_create


class Command(BaseCommand):
    help = (
        "Create a DRF token for a staff user (creating the user as staff, without a password, "
        "if missing) and print it once. Use it as `Authorization: Token <key>`."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--rotate", action="store_true", help="Replace the user's existing token."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            issued = api_token_create(username=options["username"], rotate=options["rotate"])
        except ApiTokenError as exc:
            raise CommandError(str(exc)) from None
        # Only the token goes to stdout, so `TOKEN=$(manage.py create_api_token ops)` works.
        if issued.user_created:
            self.stderr.write(f"Created staff user '{options['username']}' (no password).")
        if issued.replaced:
            self.stderr.write("The previous token no longer works.")
        self.stdout.write(issued.key)
