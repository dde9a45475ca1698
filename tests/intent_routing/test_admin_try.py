"""The admin's "Try a message" page on routing preferences: the matched route, its models, every score."""

from __future__ import annotations

import pytest
from django.urls import reverse

from governance.models import RoutingPreference
from tests.intent_routing.conftest import CHAT, CODE, OTHER

pytestmark = pytest.mark.django_db
TRY = reverse("admin:governance_routingpreference_try")


def test_changelist_links_to_the_try_page(admin_client, routed) -> None:  # type: ignore[no-untyped-def]
    html = admin_client.get(reverse("admin:governance_routingpreference_changelist")).content.decode()
    assert TRY in html


def test_a_message_shows_its_route_models_and_every_score(admin_client, routed) -> None:  # type: ignore[no-untyped-def]
    html = admin_client.post(TRY, {"text": CODE}).content.decode()
    assert "Matches <strong>code generation</strong>" in html
    assert "primary/gpt-4o, backup/gpt-4o-mini" in html
    assert html.index("code generation</td>") < html.index("general questions</td>")  # best first
    assert "lexical classifier" in html


def test_an_edit_is_tried_at_once_and_no_match_is_said(admin_client, routed) -> None:  # type: ignore[no-untyped-def]
    assert "No preference matches" in admin_client.post(TRY, {"text": OTHER}).content.decode()
    chat = admin_client.post(TRY, {"text": CHAT}).content.decode()
    assert "Matches <strong>general questions</strong>" in chat
    RoutingPreference.objects.filter(name="general questions").update(enabled=False)
    assert "general questions" not in admin_client.post(TRY, {"text": CHAT}).content.decode()


def test_without_preferences_the_page_says_so(admin_client) -> None:  # type: ignore[no-untyped-def]
    html = admin_client.post(TRY, {"text": CODE}).content.decode()
    assert "No enabled routing preference" in html


def test_an_empty_message_is_refused_by_the_form(admin_client, routed) -> None:  # type: ignore[no-untyped-def]
    html = admin_client.post(TRY, {"text": ""}).content.decode()
    assert "This field is required" in html and "try-route" not in html


def test_the_page_is_for_staff_only(client, routed) -> None:  # type: ignore[no-untyped-def]
    response = client.post(TRY, {"text": CODE})
    assert response.status_code == 302 and "/admin/login/" in response["location"]


def test_the_try_page_leads_back_to_the_preferences(admin_client, routed) -> None:  # type: ignore[no-untyped-def]
    html = admin_client.get(TRY).content.decode()
    crumbs = html[html.index('class="breadcrumbs"'):]
    crumbs = crumbs[:crumbs.index("</div>")]
    assert reverse("admin:governance_routingpreference_changelist") in crumbs and "Try" in crumbs
