"""`refresh_openai` against fake OpenAI servers on 127.0.0.1."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from providers.models import Model, Provider

pytestmark = pytest.mark.django_db


def refresh() -> str:
    out = StringIO()
    call_command("refresh_openai", stdout=out)
    return out.getvalue()


def registry() -> dict[str, tuple[str, bool]]:
    return {m.name: (m.source, m.enabled) for m in Model.objects.all()}


@pytest.fixture
def openai_models(settings, fake_openai):  # type: ignore[no-untyped-def]
    settings.OPENAI_BASE_URL = fake_openai.url
    settings.EXTERNAL_OPENAI_KEY = "sk-test-refresh"
    return fake_openai


class BrokenModels:
    """A /v1/models that answers with a fixed status and body (what the fake OpenAI cannot do)."""

    def __init__(self) -> None:
        self.status, self.body = 500, b'{"error": {"message": "boom"}}'
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(owner.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(owner.body)))
                self.end_headers()
                self.wfile.write(owner.body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def broken_models(settings) -> Iterator[BrokenModels]:  # type: ignore[no-untyped-def]
    broken = BrokenModels()
    thread = threading.Thread(target=broken.server.serve_forever, daemon=True)
    thread.start()
    settings.OPENAI_BASE_URL = broken.url
    settings.EXTERNAL_OPENAI_KEY = "sk-test-refresh"
    yield broken
    broken.server.shutdown()
    broken.server.server_close()


def test_refresh_creates_listed_models_under_the_openai_provider(openai_models):
    openai_models.wire.models = ["gpt-4o", "gpt-4o-mini"]
    out = refresh()
    assert out.strip() == (
        "OpenAI models: 2 created, 0 updated, 0 disabled, 0 skipped (manual or agent).")
    assert registry() == {"gpt-4o": ("refresh", True), "gpt-4o-mini": ("refresh", True)}
    assert set(Model.objects.values_list("provider__name", flat=True)) == {"openai"}


def test_refresh_sends_the_bearer_key_to_v1_models(openai_models):
    refresh()
    [seen] = openai_models.requests
    assert seen.path == "/v1/models"
    assert seen.headers["Authorization"] == "Bearer sk-test-refresh"


def test_refresh_accepts_a_base_url_that_already_ends_in_v1(openai_models, settings):
    settings.OPENAI_BASE_URL = openai_models.url + "/v1/"
    refresh()
    assert [r.path for r in openai_models.requests] == ["/v1/models"]


def test_refresh_leaves_a_manual_model_with_the_same_id_untouched(openai_models):
    call_command("add_model", "GPT-4o", "local", "http://gpu1.lan:8000", "api", stdout=StringIO())
    before = Model.objects.get()
    openai_models.wire.models = ["gpt-4o"]
    assert "1 skipped" in refresh()
    after = Model.objects.get()
    assert (after.name, after.provider_id, after.source, after.updated_at) == (
        before.name, before.provider_id, "manual", before.updated_at)


def test_refresh_disables_refresh_models_that_vanished(openai_models):
    openai_models.wire.models = ["gpt-4o", "gpt-3.5-turbo"]
    refresh()
    openai_models.wire.models = ["gpt-4o"]
    assert "1 disabled" in refresh()
    assert registry() == {"gpt-4o": ("refresh", True), "gpt-3.5-turbo": ("refresh", False)}


def test_refresh_never_disables_manual_models_missing_from_the_list(openai_models):
    call_command("add_model", "gpt-custom", "openai", "", "api", stdout=StringIO())
    openai_models.wire.models = ["gpt-4o"]
    refresh()
    assert registry()["gpt-custom"] == ("manual", True)


def test_refresh_reenables_a_model_listed_again(openai_models):
    openai = Provider.objects.create(name="openai", type="openai")
    Model.objects.create(name="gpt-4o", provider=openai, source="refresh", enabled=False)
    openai_models.wire.models = ["gpt-4o"]
    assert "0 created, 1 updated" in refresh()
    assert registry() == {"gpt-4o": ("refresh", True)}


def test_refresh_twice_changes_nothing_the_second_time(openai_models):
    refresh()
    before = list(Model.objects.values_list("name", "updated_at"))
    assert "0 created, 0 updated, 0 disabled" in refresh()
    assert list(Model.objects.values_list("name", "updated_at")) == before


def test_refresh_fails_cleanly_on_a_500_and_changes_nothing(broken_models):
    with pytest.raises(CommandError, match="nothing changed.*HTTP 500"):
        refresh()
    assert not Model.objects.exists()
    assert not Provider.objects.exists()


def test_refresh_names_the_key_setting_on_a_401(broken_models):
    broken_models.status = 401
    with pytest.raises(CommandError, match="EXTERNAL_OPENAI_KEY"):
        refresh()


def test_refresh_rejects_a_body_that_is_not_json(broken_models):
    broken_models.status, broken_models.body = 200, b"<html>hello</html>"
    with pytest.raises(CommandError, match="not answer with a JSON object"):
        refresh()


def test_refresh_rejects_a_body_without_a_data_list(broken_models):
    broken_models.status, broken_models.body = 200, b'{"object": "list", "models": []}'
    with pytest.raises(CommandError, match="without a 'data' list"):
        refresh()


def test_refresh_keeps_models_when_the_list_is_malformed(broken_models):
    openai = Provider.objects.create(name="openai", type="openai")
    Model.objects.create(name="gpt-4o", provider=openai, source="refresh")
    broken_models.status, broken_models.body = 200, b'{"data": [{"object": "model"}]}'
    with pytest.raises(CommandError, match="without a 'data' list"):
        refresh()
    assert registry() == {"gpt-4o": ("refresh", True)}


def test_refresh_fails_cleanly_when_openai_is_unreachable(settings):
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.OPENAI_BASE_URL = f"http://127.0.0.1:{port}"
    with pytest.raises(CommandError, match="Could not reach"):
        refresh()
    assert not Provider.objects.exists()
