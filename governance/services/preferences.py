"""Routing preferences: parse and check the spec's YAML, replace the stored set, edit one preference."""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.db import IntegrityError, transaction

from governance import config_version
from governance.models import RoutingConfig, RoutingPreference

log = logging.getLogger(__name__)

MIN_VERSION = (0, 4, 0)
PREFER = ("none", "cheapest", "fastest", "random", "balanced")
_VERSION = re.compile(r"^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?$")
_ENV_NAME = re.compile(r"^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$")
PREFERENCE_FIELDS = ("name", "description", "models", "prefer", "examples", "enabled")


class RoutingConfigError(ValueError):
    """A config the gateway refuses; `field` names where (`routing_preferences[1].models`)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass
class ParsedConfig:
    version: str
    model_providers: list[dict[str, Any]]
    preferences: list[dict[str, Any]]
    session_ttl_seconds: int = 600
    session_max_entries: int = 10000
    default_model: str = ""
    digest: str = ""
    warnings: list[str] = field(default_factory=list)


def version_tuple(version: Any) -> tuple[int, int, int]:
    match = _VERSION.match(str(version).strip()) if isinstance(version, (str, int, float)) else None
    if match is None:
        raise RoutingConfigError("version", f"'{version}' is not a version like v0.4.0")
    return tuple(int(part or 0) for part in match.groups())  # type: ignore[return-value]


def check_version(version: Any, *, has_preferences: bool) -> str:
    """`routing_preferences` need v0.4.0 or above (the spec's startup error)."""
    if has_preferences and version_tuple(version) < MIN_VERSION:
        raise RoutingConfigError(
            "version", f"routing_preferences require version v0.4.0 or above; this config declares "
            f"version {version}. Raise `version` or remove `routing_preferences`.",
        )
    return str(version).strip()


def _text(value: Any, where: str, *, required: bool = True) -> str:
    if not isinstance(value, str) or (required and not value.strip()):
        raise RoutingConfigError(where, "must be a non-empty string")
    return value.strip()


def check_models(models: Any, where: str, declared: frozenset[str] | None) -> list[str]:
    """At least one non-empty model name, each declared in model_providers when `declared` is given."""
    if not isinstance(models, list) or not models:
        raise RoutingConfigError(where, "must be a non-empty list of model names")
    names = [_text(model, f"{where}[{i}]") for i, model in enumerate(models)]
    for i, name in enumerate(names):
        if declared is not None and name.lower() not in declared:
            raise RoutingConfigError(
                f"{where}[{i}]", f"model '{name}' is not declared in model_providers"
            )
    return names


def check_preference(item: Any, where: str, declared: frozenset[str] | None) -> dict[str, Any]:
    """One `{name, description, models[, prefer, examples, enabled]}`, normalised."""
    if not isinstance(item, dict):
        raise RoutingConfigError(where, "must be an object with name, description and models")
    prefer = item.get("prefer") or "none"
    if prefer not in PREFER:
        raise RoutingConfigError(f"{where}.prefer", f"must be one of {', '.join(PREFER)}")
    examples = item.get("examples") or []
    if not isinstance(examples, list) or not all(isinstance(e, str) and e.strip() for e in examples):
        raise RoutingConfigError(f"{where}.examples", "must be a list of non-empty strings")
    enabled = item.get("enabled", True)
    if not isinstance(enabled, bool):
        raise RoutingConfigError(f"{where}.enabled", "must be true or false")
    return {
        "name": _text(item.get("name"), f"{where}.name"),
        "description": _text(item.get("description"), f"{where}.description"),
        "models": check_models(item.get("models"), f"{where}.models", declared),
        "prefer": prefer,
        "examples": [e.strip() for e in examples],
        "enabled": enabled,
    }


def check_preferences(items: Any, where: str, declared: frozenset[str] | None) -> list[dict[str, Any]]:
    if not isinstance(items, list):
        raise RoutingConfigError(where, "must be a list")
    checked = [check_preference(item, f"{where}[{i}]", declared) for i, item in enumerate(items)]
    seen: set[str] = set()
    for i, item in enumerate(checked):
        if item["name"].lower() in seen:
            raise RoutingConfigError(f"{where}[{i}].name", f"'{item['name']}' is used twice")
        seen.add(item["name"].lower())
    return checked


def check_model_providers(items: Any) -> tuple[list[dict[str, Any]], str]:
    """`[{model, access_key: $VAR, default}]` → stored items (the variable's name only) and the default."""
    if items is None:
        return [], ""
    if not isinstance(items, list):
        raise RoutingConfigError("model_providers", "must be a list")
    stored, default = [], ""
    for i, item in enumerate(items):
        where = f"model_providers[{i}]"
        if not isinstance(item, dict):
            raise RoutingConfigError(where, "must be an object with a model")
        model = _text(item.get("model"), f"{where}.model")
        key = item.get("access_key")
        env_name = ""
        if key not in (None, ""):
            match = _ENV_NAME.match(str(key).strip())
            if match is None:  # never store, echo or log a literal secret
                raise RoutingConfigError(
                    f"{where}.access_key", "must name an environment variable ($VAR); keys are not stored"
                )
            env_name = match[1]
        is_default = item.get("default") is True
        if is_default and default:
            raise RoutingConfigError(f"{where}.default", f"'{default}' is already the default model")
        default = model if is_default else default
        stored.append({"model": model, "access_key_env": env_name, "default": is_default})
    return stored, default


def _positive(routing: dict[str, Any], name: str, default: int) -> int:
    value = routing.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise RoutingConfigError(f"routing.{name}", "must be a positive integer")
    return value


def parse_routing_config(text: str) -> ParsedConfig:
    """The spec's YAML → a checked config; RoutingConfigError names the first problem."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RoutingConfigError("(file)", f"not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise RoutingConfigError("(file)", "must be a YAML mapping")
    preferences = data.get("routing_preferences")
    version = check_version(data.get("version", ""), has_preferences=bool(preferences))
    providers, default = check_model_providers(data.get("model_providers"))
    declared = frozenset(p["model"].lower() for p in providers)
    checked = check_preferences(preferences or [], "routing_preferences", declared)
    routing = data.get("routing") or {}
    if not isinstance(routing, dict):
        raise RoutingConfigError("routing", "must be a mapping")
    return ParsedConfig(
        version=version, model_providers=providers, preferences=checked,
        session_ttl_seconds=_positive(routing, "session_ttl_seconds", 600),
        session_max_entries=_positive(routing, "session_max_entries", 10000),
        default_model=default, digest=hashlib.sha256(text.encode()).hexdigest(),
    )


def routing_config_apply(*, config: ParsedConfig) -> RoutingConfig:
    """Replace the stored config and every preference in one transaction and one version bump."""
    rows = [RoutingPreference(position=i, **p) for i, p in enumerate(config.preferences)]
    with transaction.atomic(), config_version.batch():
        settings_row, _ = RoutingConfig.objects.select_for_update().get_or_create(pk=1)
        settings_row.version = config.version
        settings_row.model_providers = config.model_providers
        settings_row.default_model = config.default_model
        settings_row.session_ttl_seconds = config.session_ttl_seconds
        settings_row.session_max_entries = config.session_max_entries
        settings_row.source_digest = config.digest
        settings_row.save()
        RoutingPreference.objects.all().delete()
        RoutingPreference.objects.bulk_create(rows)
        config_version.bump_on_commit()  # bulk_create sends no post_save
    return settings_row


def routing_config_load(*, path: str | Path, force: bool = True) -> tuple[ParsedConfig, bool]:
    """Read, check and store a config file; (config, whether anything was written).

    `force=False` (startup) skips the write when this exact file was the last one loaded,
    so N gateway processes starting together do not each replace the set.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise RoutingConfigError("(file)", f"cannot read {path}: {exc.strerror}") from None
    config = parse_routing_config(text)
    if not force:
        stored = RoutingConfig.objects.filter(pk=1).values_list("source_digest", flat=True).first()
        if stored == config.digest:
            return config, False
    routing_config_apply(config=config)
    return config, True


def check_config_change(*, version: str, declared: frozenset[str]) -> None:
    """A config edit may not orphan a stored preference's model nor drop below v0.4.0 under preferences."""
    from governance.selectors.preferences import preferences_naming

    names = {str(m).lower() for models in RoutingPreference.objects.values_list("models", flat=True) for m in models}
    check_version(version, has_preferences=bool(names) or RoutingPreference.objects.exists())
    orphaned = preferences_naming(frozenset(names - declared))
    if orphaned:
        used = "; ".join(f"'{name}' uses {', '.join(models)}" for name, models in orphaned.items())
        raise RoutingConfigError("model_providers", f"would no longer declare models in use: {used}")


def routing_config_update(*, data: dict[str, Any]) -> RoutingConfig:
    """PUT of the config row (checked by the API serializer); the preferences stay as they are."""
    with transaction.atomic():
        row, _ = RoutingConfig.objects.select_for_update().get_or_create(pk=1)
        for name, value in data.items():
            setattr(row, name, value)
        row.save()
    return row


def _unique_name(exc: IntegrityError) -> RoutingConfigError:
    return RoutingConfigError("name", "a routing preference with this name already exists")


def preference_create(*, data: dict[str, Any]) -> RoutingPreference:
    fields = {name: data[name] for name in PREFERENCE_FIELDS if name in data}
    try:
        with transaction.atomic():
            if "position" not in data:
                last = RoutingPreference.objects.order_by("-position").values_list("position", flat=True).first()
                fields["position"] = 0 if last is None else last + 1
            else:
                fields["position"] = data["position"]
            return RoutingPreference.objects.create(**fields)
    except IntegrityError as exc:
        raise _unique_name(exc) from exc


def preference_update(*, preference: RoutingPreference, data: dict[str, Any]) -> RoutingPreference:
    """Replace every writable field (PUT semantics)."""
    for name in (*PREFERENCE_FIELDS, "position"):
        if name in data:
            setattr(preference, name, data[name])
    try:
        with transaction.atomic():
            preference.save()
    except IntegrityError as exc:
        raise _unique_name(exc) from exc
    return preference


def preference_delete(*, preference: RoutingPreference) -> None:
    preference.delete()
