"""The route form in a real browser: create auto, specific and multi routes, then route a chat through each."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.browser.conftest import admin_server, log_in, screenshot
from tests.fakes.server import FakeUpstream
from tests.live import LiveGateway

REGISTRY = """
from providers.models import Model, Provider
primary = Provider.objects.create(name="primary", type="openai", base_url="{primary}", api_key="sk-p")
backup = Provider.objects.create(name="backup", type="openai", base_url="{backup}", api_key="sk-b")
claude = Provider.objects.create(name="claude", type="anthropic", base_url="{claude}", api_key="sk-a")
Model.objects.create(name="gpt-4o", provider=primary)
Model.objects.create(name="gpt-4o-mini", provider=primary)
Model.objects.create(name="backup-gpt", provider=backup, upstream_name="gpt-4o")
Model.objects.create(name="claude-3-5-haiku", provider=claude)
"""


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, _openai_server: FakeUpstream,
         _openai_backup_server: FakeUpstream, _anthropic_server: FakeUpstream) -> Iterator[LiveGateway]:
    server = admin_server(tmp_path_factory.mktemp("browser"), {"CIRCUIT_FAILURE_THRESHOLD": "1000"})
    server.manage("shell", "-c", REGISTRY.format(
        primary=_openai_server.url, backup=_openai_backup_server.url, claude=_anthropic_server.url))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def fakes(fake_openai, fake_openai_backup, fake_anthropic):  # type: ignore[no-untyped-def]
    return {"primary": fake_openai, "backup": fake_openai_backup, "claude": fake_anthropic}


def chat(live: LiveGateway, route: str) -> httpx.Response:
    response = httpx.post(f"{live.url}/v1/chat/completions", timeout=10, json={
        "model": f"route/{route}", "messages": [{"role": "user", "content": "hi"}]})
    assert response.status_code == 200, response.text
    return response


def strategy(page) -> str:  # type: ignore[no-untyped-def]
    return page.inner_text("fieldset.route-models .route-strategy strong")


def open_add_form(page, live: LiveGateway, name: str) -> None:  # type: ignore[no-untyped-def]
    log_in(page, live)
    page.goto(f"{live.url}/admin/governance/route/add/")
    page.fill("#id_name", name)


def save(page) -> None:  # type: ignore[no-untyped-def]
    page.click('input[name="_save"]')
    page.wait_for_selector(".messagelist .success")


def test_auto_route_through_the_form(page, live, fakes) -> None:  # type: ignore[no-untyped-def]
    open_add_form(page, live, "browser-auto")
    page.check('input[name="mode"][value="auto"]')
    page.select_option("#id_provider_mode", label="Use only claude")
    assert not page.is_visible('input[name="selected_models"][value="gpt-4o"]')
    page.select_option("#id_provider_mode", label="Use all enabled providers")
    assert page.is_visible('input[name="selected_models"][value="gpt-4o"]')
    assert strategy(page) == "No model ticked yet"
    page.check('input[name="selected_models"][value="gpt-4o"]')
    assert strategy(page) == "Single (fixed)"
    page.check('input[name="selected_models"][value="claude-3-5-haiku"]')
    assert strategy(page) == "Cycle"
    screenshot(page, "route-form-auto-cycle")
    page.uncheck('input[name="selected_models"][value="claude-3-5-haiku"]')
    assert strategy(page) == "Single (fixed)"
    save(page)
    screenshot(page, "route-list-after-auto")
    served = {chat(live, "browser-auto").headers["x-switchyard-provider"] for _ in range(2)}
    assert served == {"primary", "backup"}  # round-robin over the providers offering gpt-4o
    assert fakes["claude"].requests == []


def test_specific_route_through_the_form(page, live, fakes) -> None:  # type: ignore[no-untyped-def]
    open_add_form(page, live, "browser-specific")
    page.check('input[name="mode"][value="specific"]')
    assert not page.is_visible("#id_provider_mode")
    page.select_option("#id_provider", label="claude")
    assert not page.is_visible('input[name="selected_models"][value="gpt-4o"]')
    page.check('input[name="selected_models"][value="claude-3-5-haiku"]')
    assert strategy(page) == "Single (fixed)"
    screenshot(page, "route-form-specific")
    save(page)
    response = chat(live, "browser-specific")
    assert response.headers["x-switchyard-provider"] == "claude"
    assert len(fakes["claude"].requests) == 1


def test_multi_route_through_the_form(page, live, fakes) -> None:  # type: ignore[no-untyped-def]
    open_add_form(page, live, "browser-multi")
    page.check('input[name="mode"][value="multi"]')
    assert page.is_visible("#nodes-group") and not page.is_visible("fieldset.route-models")
    page.select_option("#id_nodes-0-provider", label="primary")
    assert not page.is_visible('#id_nodes-0-models input[value="claude-3-5-haiku"]')
    page.check('#id_nodes-0-models input[value="gpt-4o-mini"]')
    page.select_option("#id_nodes-0-strategy", "failover")
    page.click("#nodes-group .add-row a")
    page.select_option("#id_nodes-1-provider", label="backup")
    page.fill("#id_nodes-1-priority", "1")
    page.check('#id_nodes-1-models input[value="backup-gpt"]')
    assert page.inner_text("#nodes-1 .route-strategy strong") == "Single (fixed)"
    screenshot(page, "route-form-multi")
    save(page)
    response = chat(live, "browser-multi")
    assert (response.headers["x-switchyard-provider"], response.headers["x-switchyard-model"]) == (
        "primary", "gpt-4o-mini")
    fakes["primary"].fail_next("500")
    assert chat(live, "browser-multi").headers["x-switchyard-provider"] == "backup"


def test_invalid_save_shows_the_message(page, live) -> None:  # type: ignore[no-untyped-def]
    open_add_form(page, live, "browser-invalid")
    page.check('input[name="mode"][value="auto"]')
    page.click('input[name="_save"]')
    page.wait_for_selector(".errornote")
    assert "Tick at least one model." in page.inner_text("fieldset.route-models")
    screenshot(page, "route-form-invalid")
    page.goto(f"{live.url}/admin/governance/route/?q=browser-invalid")
    assert "0 routes" in page.inner_text("#changelist-form") or "browser-invalid" not in page.content()


def test_add_buttons_are_disabled_without_providers(page, empty_server) -> None:  # type: ignore[no-untyped-def]
    log_in(page, empty_server)
    page.goto(f"{empty_server.url}/admin/governance/route/")
    assert page.get_attribute(".object-tools .addlink", "aria-disabled") == "true"
    assert "add a provider" in page.inner_text(".route-no-providers")
    page.goto(f"{empty_server.url}/admin/governance/route/add/")
    page.check('input[name="mode"][value="multi"]')
    assert page.get_attribute("#nodes-group .add-row a", "aria-disabled") == "true"
    assert "Add a provider first" in page.inner_text("#nodes-group")
    screenshot(page, "route-form-no-providers")
