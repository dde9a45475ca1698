"""Run a local agent: serve local models over OpenAI's API and register them with the gateway."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from agents.worker.config import BACKENDS, AgentConfig, advertise_url, parse_model


def _model(value: str) -> Any:
    try:
        return parse_model(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


class Command(BaseCommand):
    help = (
        "Serve local models (weights from HF_CACHE_DIR, or a proxy to an OpenAI-compatible server) "
        "on /v1/chat/completions, and register them with the gateway."
    )
    requires_system_checks: list[str] = []  # the agent needs no database

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--name", required=True, help="the agent's name at the gateway")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=5000)
        parser.add_argument(
            "--gateway", default="", help="gateway base URL; empty: do not register"
        )
        parser.add_argument(
            "--registration-token",
            default=None,
            help="defaults to settings.AGENT_REGISTRATION_TOKEN, then $AGENT_REGISTRATION_TOKEN",
        )
        parser.add_argument(
            "--advertise-url", default="", help="URL the gateway calls (default http://HOST:PORT)"
        )
        parser.add_argument(
            "--model",
            dest="models",
            action="append",
            type=_model,
            required=True,
            metavar="NAME[=SOURCE]",
            help="weights: SOURCE is a directory or a name under HF_CACHE_DIR (default NAME); "
            "proxy: SOURCE is the upstream's model name (default NAME). Repeatable.",
        )
        parser.add_argument("--backend", choices=BACKENDS, default="weights")
        parser.add_argument(
            "--upstream", default="", help="proxy: the OpenAI-compatible server's base URL"
        )
        parser.add_argument(
            "--upstream-api-key", default="", help="proxy: Bearer key for the upstream, if any"
        )
        parser.add_argument(
            "--device", default=None, help="weights: torch device (default settings.HF_DEVICE)"
        )
        parser.add_argument(
            "--max-tokens", type=int, default=256, help="completion length when a request sets none"
        )
        parser.add_argument(
            "--queue-size", type=int, default=8, help="requests that may wait per model"
        )
        parser.add_argument(
            "--retry-max-seconds",
            type=float,
            default=10.0,
            help="longest pause between attempts to reach the gateway",
        )
        parser.add_argument("--log-level", default="info")

    def handle(self, *args: Any, **opts: Any) -> None:
        config = self._config(opts)
        from agents.worker.server import serve

        self.stdout.write(
            f"agent {config.name} on {config.advertise_url} ({config.backend}: "
            f"{', '.join(m.name for m in config.models)})"
        )
        serve(config, log_level=opts["log_level"])

    def _config(self, opts: dict[str, Any]) -> AgentConfig:
        names = [m.name for m in opts["models"]]
        if len(set(names)) != len(names):
            raise CommandError("--model names must be unique")
        if opts["backend"] == "proxy" and not opts["upstream"]:
            raise CommandError("--backend proxy needs --upstream (e.g. http://127.0.0.1:8080)")
        token = opts["registration_token"]
        if token is None:
            token = getattr(settings, "AGENT_REGISTRATION_TOKEN", "") or os.environ.get(
                "AGENT_REGISTRATION_TOKEN", ""
            )
        if opts["gateway"] and not token:
            raise CommandError("registering needs --registration-token or AGENT_REGISTRATION_TOKEN")
        config = AgentConfig(
            name=opts["name"],
            host=opts["host"],
            port=opts["port"],
            gateway=opts["gateway"],
            registration_token=token,
            advertise_url=opts["advertise_url"] or advertise_url(opts["host"], opts["port"]),
            backend=opts["backend"],
            models=tuple(opts["models"]),
            upstream=opts["upstream"],
            upstream_api_key=opts["upstream_api_key"],
            device=opts["device"] or settings.HF_DEVICE,
            cache_dir=Path(str(settings.HF_CACHE_DIR)),
            default_max_tokens=opts["max_tokens"],
            queue_size=opts["queue_size"],
            retry_max_seconds=opts["retry_max_seconds"],
        )
        if config.backend == "weights":
            self._check_sources(config)
        return config

    @staticmethod
    def _check_sources(config: AgentConfig) -> None:
        """Fail at once on a missing model rather than minutes later in a background load."""
        from agents.worker.prompt import resolve_source

        for spec in config.models:
            try:
                resolve_source(spec.source, config.cache_dir)
            except FileNotFoundError as exc:
                raise CommandError(f"--model {spec.name}: {exc}") from None
