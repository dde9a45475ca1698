"""The registry CLI: add_model, list_models, remove_model and load_demo_registry."""

from __future__ import annotations

import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from providers.models import Model, Provider

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_added_model_is_listed_with_its_provider_and_prices():
    run("add_model", "gpt-4o", "openai", "https://api.openai.com", "api",
        "--input-price", "2.5", "--output-price", "10")
    lines = run("list_models").splitlines()
    assert lines[0].split() == ["name", "provider", "type", "kind", "enabled", "source",
                                "input", "$/1M", "output", "$/1M"]
    assert lines[1].split() == [
        "gpt-4o", "openai", "openai", "api", "yes", "manual", "2.50", "10.00"]


def test_list_models_columns_are_aligned():
    run("add_model", "a-very-long-model-name", "openai", "", "api")
    run("add_model", "short", "anthropic", "", "api")
    lines = run("list_models").splitlines()
    assert len({line.index("api ") for line in lines[1:]}) == 1
    assert lines[0].index("kind") == lines[1].index("api ")


def test_list_models_json_gives_every_field():
    run("add_model", "claude-x", "anthropic", "", "api", "--capabilities", "text,Tools",
        "--context-window", "200000", "--input-price", "0.8", "--fallback", "gpt-4o")
    [row] = json.loads(run("list_models", "--json"))
    assert row == {
        "name": "claude-x", "provider": "anthropic", "type": "anthropic", "kind": "api",
        "enabled": True, "source": "manual", "upstream_name": "claude-x",
        "capabilities": ["text", "tools"], "context_window": 200000,
        "input_price": 0.8, "output_price": None, "fallbacks": ["gpt-4o"],
    }


def test_list_models_says_when_the_registry_is_empty():
    assert run("list_models").strip() == "No models registered."


def test_removed_model_is_gone_from_the_list():
    run("add_model", "gpt-4o", "openai", "", "api")
    assert "Removed model GPT-4o" in run("remove_model", "GPT-4o")
    assert not Model.objects.exists()
    assert run("list_models").strip() == "No models registered."


def test_removing_an_unknown_model_fails_with_its_name():
    with pytest.raises(CommandError, match="No model named 'nope'"):
        run("remove_model", "nope")


def test_fallback_option_is_repeatable_and_ordered():
    run("add_model", "gpt-4o", "openai", "", "api",
        "--fallback", "claude-x", "--fallback", "gemini-y")
    assert Model.objects.get().fallbacks == ["claude-x", "gemini-y"]


def test_add_model_updates_the_row_with_the_same_name_in_any_case():
    run("add_model", "GPT-4o", "openai", "", "api", "--input-price", "2.5")
    run("add_model", "gpt-4o", "openai", "", "api", "--upstream-name", "gpt-4o-2024-08-06")
    model = Model.objects.get()
    assert (model.name, model.upstream_name) == ("gpt-4o", "gpt-4o-2024-08-06")
    assert model.input_price == Decimal("2.5")  # options not given keep their stored value


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("bogus", "https://x.example", "api"), "Unknown type 'bogus'"),
        (("openai", "https://x.example", "cloud"), "Unknown kind 'cloud'"),
        (("openai", "ftp://x.example", "api"), r"not an http\(s\) URL"),
        (("openai", "not a url", "api"), r"not an http\(s\) URL"),
        (("huggingface", "https://huggingface.co", "api"), "use kind 'weight'"),
    ],
)
def test_bad_type_kind_or_endpoint_is_rejected_and_nothing_changes(args, message):
    with pytest.raises(CommandError, match=message):
        run("add_model", "some-model", *args)
    assert not Model.objects.exists()
    assert not Provider.objects.exists()


def test_invalid_price_is_rejected_and_creates_no_provider():
    with pytest.raises(CommandError, match="output_price"):
        run("add_model", "m", "local", "http://gpu1.lan:8000", "api", "--output-price", "-1")
    assert not Provider.objects.exists()


def test_model_cannot_fall_back_to_itself():
    with pytest.raises(CommandError, match="cannot fall back to itself"):
        run("add_model", "gpt-4o", "openai", "", "api", "--fallback", "GPT-4o")


def test_quickstart_local_weight_example_registers_the_model():
    run("add_model", "local_mistral", "local", "http://localhost:5000", "weight")
    model = Model.objects.select_related("provider").get(name="local_mistral")
    assert model.kind == "weight"
    provider = model.provider
    assert (provider.type, provider.kind, provider.base_url) == ("local", "weight", "")


def test_quickstart_huggingface_example_registers_a_weight_model():
    out = run("add_model", "meta-llama/Llama-3", "huggingface", "https://huggingface.co", "weight")
    model = Model.objects.select_related("provider").get(name="meta-llama/Llama-3")
    assert model.provider.name == "huggingface"
    assert (model.kind, model.provider.kind, model.provider.base_url) == ("weight", "weight", "")
    assert "provider huggingface" in out


def test_default_endpoint_in_any_spelling_shares_the_type_named_provider(settings):
    settings.OPENAI_BASE_URL = "https://api.openai.com"
    run("add_model", "a", "openai", "", "api")
    run("add_model", "b", "openai", "https://api.openai.com/", "api")
    run("add_model", "c", "openai", "https://api.openai.com/v1", "api")
    provider = Provider.objects.get()
    assert (provider.name, provider.base_url) == ("openai", "")
    assert provider.models.count() == 3


def test_default_endpoint_reuses_a_type_named_provider_that_spells_out_its_url():
    made = Provider.objects.create(name="openai", type="openai", base_url="https://api.openai.com")
    run("add_model", "gpt-4o", "openai", "", "api")
    assert Model.objects.get().provider == made


def test_custom_endpoint_gets_a_provider_named_after_its_host():
    run("add_model", "m1", "local", "http://gpu1.lan:8000", "api")
    run("add_model", "m2", "local", "http://gpu1.lan:8000/", "api")
    provider = Provider.objects.get()
    assert (provider.name, provider.base_url) == ("local-gpu1.lan-8000", "http://gpu1.lan:8000")


def test_provider_names_are_made_unique():
    Provider.objects.create(name="openai-proxy.example.com", type="anthropic")
    run("add_model", "m", "openai", "https://proxy.example.com", "api")
    assert Model.objects.get().provider.name == "openai-proxy.example.com-2"


def test_demo_registry_loads_models_with_prices_and_fallbacks():
    assert "4 model(s) added" in run("load_demo_registry")
    mini = Model.objects.select_related("provider").get(name="gpt-4o-mini")
    assert mini.provider.name == "openai"
    assert {"vision", "tools"} <= set(mini.capabilities)
    assert (mini.context_window, mini.input_price, mini.output_price) == (
        128000, Decimal("0.15"), Decimal("0.60"))
    assert mini.fallbacks == ["claude-3-5-haiku-latest"]
    assert set(Model.objects.values_list("provider__type", flat=True)) == {
        "openai", "anthropic", "google", "local"}


def test_demo_registry_is_idempotent():
    run("load_demo_registry")
    before = list(Model.objects.values_list("name", "updated_at"))
    assert "0 model(s) added" in run("load_demo_registry")
    assert list(Model.objects.values_list("name", "updated_at")) == before
    assert Provider.objects.count() == 4


def test_demo_registry_keeps_an_operators_changes():
    run("add_model", "gpt-4o-mini", "openai", "", "api", "--input-price", "9")
    run("load_demo_registry")
    assert Model.objects.get(name="gpt-4o-mini").input_price == Decimal("9")
