"""The provider types Switchyard knows: wire format, settings that configure them, name heuristics."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True, slots=True)
class ProviderType:
    type: str
    wire: str  # "openai" | "anthropic" | "gemini"
    base_url_setting: str
    key_setting: str  # "" when the upstream needs no key
    api_prefix: str  # path under the base URL where the API lives
    prefixes: tuple[str, ...] = ()  # quickstart heuristics: model-name prefixes routed here

    @property
    def base_url(self) -> str:
        return getattr(settings, self.base_url_setting, "") or ""

    @property
    def settings_key(self) -> str:
        return getattr(settings, self.key_setting, "") if self.key_setting else ""


# Order is the order of the quickstart's prefix heuristics.
PROVIDER_TYPES: dict[str, ProviderType] = {
    t.type: t
    for t in (
        ProviderType("local", "openai", "LOCAL_AGENT_URL", "", "/v1", ("local",)),
        ProviderType("openai", "openai", "OPENAI_BASE_URL", "EXTERNAL_OPENAI_KEY", "/v1", ("gpt-",)),
        ProviderType("llm-d", "openai", "LLMD_ENDPOINT", "", "/v1", ("llmd-",)),
        ProviderType(
            "anthropic", "anthropic", "ANTHROPIC_BASE_URL", "EXTERNAL_ANTHROPIC_KEY", "/v1", ("claude",)
        ),
        ProviderType(
            "google", "gemini", "GOOGLE_BASE_URL", "EXTERNAL_GOOGLE_KEY", "/v1beta", ("google", "gemini")
        ),
        ProviderType(
            "openrouter", "openai", "OPENROUTER_BASE_URL", "EXTERNAL_OPENROUTER_KEY", "/api/v1",
            ("openrouter",),
        ),
        ProviderType("grok", "openai", "GROK_BASE_URL", "EXTERNAL_GROK_KEY", "/v1", ("grok",)),
        ProviderType("venice", "openai", "VENICE_BASE_URL", "EXTERNAL_VENICE_KEY", "/api/v1", ("venice",)),
        # Weight models run on a local agent worker, never in the gateway process;
        # the gateway reaches them over the agent's OpenAI-compatible API.
        ProviderType("huggingface", "openai", "LOCAL_AGENT_URL", "", "/v1"),
    )
}

KIND_API = "api"
KIND_WEIGHT = "weight"


def api_root(base_url: str, api_prefix: str) -> str:
    """`https://host` + `/v1`, unless the base URL already ends with the prefix."""
    base = base_url.rstrip("/")
    if not api_prefix or base.endswith(api_prefix):
        return base
    return base + api_prefix


def heuristic_type(model: str) -> ProviderType | None:
    """The quickstart's prefix heuristics: `local*`, `gpt-*`, `claude*`, ..."""
    lowered = model.lower()
    for ptype in PROVIDER_TYPES.values():
        if any(lowered.startswith(prefix) for prefix in ptype.prefixes):
            if ptype.type == "llm-d" and not settings.LLMD_ENDPOINT:
                return None
            return ptype
    return None
