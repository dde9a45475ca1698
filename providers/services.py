"""Registry writes: models added by the CLI, refreshed from OpenAI or loaded as a demo."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import QuerySet
from django.db.models.functions import Lower

from governance import config_version
from governance.selectors.providers import provider_name_conflict
from providers.catalog import KIND_API, KIND_WEIGHT, PROVIDER_TYPES, ProviderType, api_root
from providers.client import timeouts
from providers.models import Model, Provider

KINDS = (KIND_API, KIND_WEIGHT)
# Weight models are downloaded from the hub and served by the local agent, so the
# hub is as much huggingface's default endpoint as LOCAL_AGENT_URL is.
HF_HUB_URL = "https://huggingface.co"
_validate_url = URLValidator(schemes=["http", "https"])


class RegistryError(ValueError):
    """Bad input for the registry, or an upstream that could not be read; nothing was changed."""


@dataclass(frozen=True, slots=True)
class RefreshResult:
    created: int = 0
    updated: int = 0
    disabled: int = 0
    skipped_manual: int = 0  # rows a person or an agent owns: never touched by a refresh


def _save(row: Model | Provider) -> None:
    """full_clean, then save; validation errors become one readable RegistryError."""
    try:
        row.full_clean()
        if isinstance(row, Provider) and (problem := provider_name_conflict(name=row.name)):
            raise ValidationError({"name": [problem]})
    except ValidationError as exc:
        details = "; ".join(f"{f}: {' '.join(msgs)}" for f, msgs in exc.message_dict.items())
        raise RegistryError(f"Invalid {row._meta.verbose_name} '{row}': {details}") from None
    row.save()


def _provider_type(type: str) -> ProviderType:
    ptype = PROVIDER_TYPES.get(type)
    if ptype is None:
        raise RegistryError(f"Unknown type '{type}': use one of {', '.join(PROVIDER_TYPES)}.")
    return ptype


def _check_kind(ptype: ProviderType, kind: str) -> None:
    if kind not in KINDS:
        raise RegistryError(f"Unknown kind '{kind}': use 'api' or 'weight'.")
    if ptype.type == "huggingface" and kind != KIND_WEIGHT:
        raise RegistryError("huggingface models run from their weights: use kind 'weight'.")


def _stored_base_url(ptype: ProviderType, endpoint: str) -> str:
    """Provider.base_url for an endpoint: empty when it is the type's default (follow settings)."""
    endpoint = endpoint.strip().rstrip("/")
    if not endpoint:
        return ""
    try:
        _validate_url(endpoint)
    except ValidationError:
        raise RegistryError(f"Endpoint '{endpoint}' is not an http(s) URL.") from None
    defaults = {HF_HUB_URL} if ptype.type == "huggingface" else set()
    if ptype.base_url:
        defaults.add(api_root(ptype.base_url, ptype.api_prefix))
    if endpoint in defaults or api_root(endpoint, ptype.api_prefix) in defaults:
        return ""
    return endpoint


def _unique_provider_name(base: str) -> str:
    base = re.sub(r"[^A-Za-z0-9._-]+", "-", base).strip("-._")[:56]
    names = Provider.objects.filter(name__istartswith=base).values_list("name", flat=True)
    taken = {n.lower() for n in names}
    name, n = base, 2
    while name.lower() in taken:
        name, n = f"{base}-{n}", n + 1
    return name


def provider_for(*, type: str, endpoint: str, kind: str) -> Provider:
    """The provider serving `type` at `endpoint` with `kind`, created when there is none yet.

    It is named after the type when the endpoint is the type's default, else
    `<type>-<host>`; `-weight`/`-api` is added when the kind is not the type's usual one.
    """
    ptype = _provider_type(type)
    _check_kind(ptype, kind)
    base_url = _stored_base_url(ptype, endpoint)
    same = Provider.objects.filter(type=type, kind=kind).order_by("id")
    existing = same.filter(base_url=base_url).first()
    if existing is None and not base_url:  # e.g. an "openai" row made in the admin with its URL
        existing = same.filter(name__iexact=type).first()
    if existing is not None:
        return existing
    name = type
    if base_url:
        parts = urlsplit(base_url)
        name += f"-{parts.hostname}" + (f"-{parts.port}" if parts.port else "")
    usual_kind = KIND_WEIGHT if type == "huggingface" else KIND_API
    if kind != usual_kind:
        name += f"-{kind}"
    provider = Provider(name=_unique_provider_name(name), type=type, kind=kind, base_url=base_url)
    _save(provider)
    return provider


def _model_by_name(name: str) -> Model | None:
    return Model.objects.filter(name__iexact=name).select_related("provider").first()


def _clean_names(values: Iterable[str] | None, *, lower: bool = False) -> list[str] | None:
    if values is None:
        return None
    cleaned: list[str] = []
    for value in values:
        value = str(value).strip().lower() if lower else str(value).strip()
        if value and value not in cleaned:
            cleaned.append(value)
    return cleaned


def _price(value: Decimal | float | str | None, field: str) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise RegistryError(f"{field} must be a number (USD per 1M tokens): '{value}'.") from None


@transaction.atomic
def model_add(
    *,
    name: str,
    type: str,
    endpoint: str,
    kind: str,
    upstream_name: str = "",
    capabilities: Sequence[str] | None = None,
    context_window: int | None = None,
    input_price: Decimal | float | str | None = None,
    output_price: Decimal | float | str | None = None,
    fallbacks: Sequence[str] | None = None,
) -> Model:
    """Create or update (by name, any case) a manual model; options left None keep stored values."""
    name = name.strip()
    if not name:
        raise RegistryError("A model needs a name.")
    fallback_names = _clean_names(fallbacks)
    if fallback_names and name.lower() in (f.lower() for f in fallback_names):
        raise RegistryError(f"Model '{name}' cannot fall back to itself.")
    prices = {
        "input_price": _price(input_price, "input price"),
        "output_price": _price(output_price, "output price"),
    }
    provider = provider_for(type=type, endpoint=endpoint, kind=kind)
    model = _model_by_name(name) or Model(capabilities=["text"])
    model.name, model.provider, model.kind = name, provider, kind
    model.upstream_name = upstream_name.strip()
    model.source = Model.Source.MANUAL
    optional = {
        "capabilities": _clean_names(capabilities, lower=True),
        "context_window": context_window,
        "fallbacks": fallback_names,
        **prices,
    }
    for field, value in optional.items():
        if value is not None:
            setattr(model, field, value)
    _save(model)
    return model


def model_remove(*, name: str) -> bool:
    """Delete the model called `name` (any case); False when there is none."""
    deleted, _ = Model.objects.filter(name__iexact=name.strip()).delete()
    return deleted > 0


def models_set_enabled(*, models: QuerySet[Model], enabled: bool) -> int:
    """Enable or disable many models in one update, with one config-version bump."""
    changed = models.exclude(enabled=enabled).update(enabled=enabled)
    if changed:  # update() sends no post_save, so the snapshot must be told here
        config_version.bump_on_commit()
    return changed


def _openai_model_ids() -> list[str]:
    """The ids GET /v1/models lists at OPENAI_BASE_URL, or a RegistryError saying what failed."""
    url = api_root(settings.OPENAI_BASE_URL, PROVIDER_TYPES["openai"].api_prefix) + "/models"
    key = settings.EXTERNAL_OPENAI_KEY
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        with httpx.Client(timeout=httpx.Timeout(**timeouts())) as client:
            response = client.get(url, headers=headers)
    except httpx.HTTPError as exc:
        raise RegistryError(f"Could not reach {url}: {str(exc) or type(exc).__name__}") from None
    if response.is_error:
        status = response.status_code
        hint = " (check EXTERNAL_OPENAI_KEY)" if status in (401, 403) else ""
        raise RegistryError(f"{url} answered HTTP {status}{hint}: {response.text[:200]}")
    try:
        data = response.json().get("data")
    except (ValueError, AttributeError):
        raise RegistryError(f"{url} did not answer with a JSON object.") from None
    listed = isinstance(data, list) and all(isinstance(m, dict) for m in data)
    if not listed or not all(isinstance(m.get("id"), str) for m in data):
        raise RegistryError(f"{url} answered without a 'data' list of models with ids.")
    return list(dict.fromkeys(m["id"] for m in data))


def models_refresh_openai() -> RefreshResult:
    """Mirror OpenAI's model list as refresh-sourced models; manual and agent rows are kept."""
    ids = _openai_model_ids()
    wanted = {model_id.lower(): model_id for model_id in ids}
    created = updated = skipped = 0
    with transaction.atomic(), config_version.batch():
        provider = provider_for(type="openai", endpoint="", kind=KIND_API)
        rows = Model.objects.annotate(lname=Lower("name")).filter(lname__in=list(wanted))
        existing = {row.name.lower(): row for row in rows}
        for lname, model_id in wanted.items():
            row = existing.get(lname)
            if row is None:
                _save(Model(
                    name=model_id, provider=provider, source=Model.Source.REFRESH,
                    capabilities=["text"],
                ))
                created += 1
            elif row.source != Model.Source.REFRESH:
                skipped += 1
            elif not row.enabled or row.provider_id != provider.pk:
                row.enabled, row.provider = True, provider
                _save(row)
                updated += 1
        vanished = (
            Model.objects.filter(source=Model.Source.REFRESH, provider=provider, enabled=True)
            .annotate(lname=Lower("name"))
            .exclude(lname__in=list(wanted))
        )
        disabled = 0
        for row in vanished:
            row.enabled = False
            row.save(update_fields=["enabled", "updated_at"])
            disabled += 1
    return RefreshResult(created, updated, disabled, skipped)


# name, type, capabilities, context window, USD per 1M input / output tokens, fallbacks
DEMO_MODELS: tuple[tuple[str, str, list[str], int, str, str, list[str]], ...] = (
    ("gpt-4o-mini", "openai", ["text", "vision", "tools", "json"], 128000, "0.15", "0.60",
     ["claude-3-5-haiku-latest"]),
    ("claude-3-5-haiku-latest", "anthropic", ["text", "tools"], 200000, "0.80", "4.00", []),
    ("gemini-2.0-flash", "google", ["text", "vision", "audio", "tools", "json"], 1048576,
     "0.10", "0.40", []),
    ("local_mistral-7b-instruct-q4", "local", ["text"], 32768, "0", "0", []),
)


@transaction.atomic
def demo_registry_load() -> int:
    """Add the demo models that are missing and return how many; existing rows are never changed."""
    added = 0
    with config_version.batch():
        for name, type, capabilities, window, input_price, output_price, fallbacks in DEMO_MODELS:
            if _model_by_name(name) is not None:
                continue
            model_add(
                name=name, type=type, endpoint="", kind=KIND_API, capabilities=capabilities,
                context_window=window, input_price=input_price, output_price=output_price,
                fallbacks=fallbacks,
            )
            added += 1
    return added
