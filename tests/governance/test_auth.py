"""Who may call the governance API: every route, found by walking the URLconf, admits staff only.

The routes are enumerated from `get_resolver()` at collection time, so endpoints added later
under /api/governance/ are covered without touching this file.
"""

from __future__ import annotations

import re
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.resolvers import RegexPattern
from rest_framework.authtoken.models import Token

pytestmark = pytest.mark.django_db

PREFIX = "api/governance/"
DUMMY_ID = "no-such-id"
_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")
_REGEX_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")


def _dummy(match: re.Match[str]) -> str:
    return "json" if match.group(1) == "format" else DUMMY_ID  # a format suffix must be real


def _concrete(pattern: Any) -> str:
    """A URL piece from a route (`<str:pk>`) or a regex (`(?P<pk>[^/.]+)`), ids made dummies."""
    text = str(pattern)
    if isinstance(pattern, RegexPattern):  # e.g. a DRF router's `^rules/(?P<pk>[^/.]+)/$`
        text = _REGEX_GROUP.sub(_dummy, text).lstrip("^").rstrip("$").replace("/?", "/")
        text = text.replace("\\", "")
    return _CONVERTER.sub(_dummy, text)


def _walk(patterns: list[Any], prefix: str = "") -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    for entry in patterns:
        route = prefix + _concrete(entry.pattern)
        if isinstance(entry, URLResolver):
            found += _walk(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            found.append((route, entry.callback))
    return found


def _methods(callback: Any) -> list[str]:
    """What the view answers: a viewset's bound actions, else the APIView's handlers."""
    actions = getattr(callback, "actions", None)
    view = callback.cls
    names = list(actions) if actions else [m for m in view.http_method_names if hasattr(view, m)]
    return sorted({m for m in names if m != "trace"} | {"options"})


def governance_endpoints() -> list[tuple[str, str]]:
    endpoints = []
    for route, callback in _walk(get_resolver().url_patterns):
        if not route.startswith(PREFIX):
            continue
        url = "/" + route
        assert resolve(url).func is callback, f"could not build a URL for {route!r}"
        endpoints += [(method, url) for method in _methods(callback)]
    return endpoints


ENDPOINTS = governance_endpoints()


def call(client: Client, method: str, url: str, **extra: Any) -> Any:
    body = "" if method in ("get", "head", "options") else "{}"
    return client.generic(method.upper(), url, body, content_type="application/json", **extra)


def make_user(*, staff: bool) -> Any:
    return get_user_model().objects.create_user(f"u-{staff}", is_staff=staff)


def test_the_walk_finds_the_callers_routes():
    urls = {url for _, url in ENDPOINTS}
    assert {"/api/governance/customers", "/api/governance/teams/",
            f"/api/governance/virtual-keys/{DUMMY_ID}/rotate"} <= urls
    assert ("delete", f"/api/governance/customers/{DUMMY_ID}") in ENDPOINTS


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_anonymous_is_401_with_www_authenticate(method, url):
    response = call(Client(), method, url)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_authenticated_non_staff_is_403(method, url):
    client = Client()
    client.force_login(make_user(staff=False))
    assert call(client, method, url).status_code == 403


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_staff_token_is_admitted(method, url):
    token = Token.objects.create(user=make_user(staff=True))
    response = call(Client(), method, url, HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code not in (401, 403), response.content


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_staff_admin_session_is_admitted(method, url):
    client = Client()  # the test client skips CSRF checks; the CSRF tests below do not
    client.force_login(make_user(staff=True))
    assert call(client, method, url).status_code not in (401, 403)


def test_non_staff_token_is_403():
    token = Token.objects.create(user=make_user(staff=False))
    response = Client().get("/api/governance/customers", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 403


def test_wrong_token_is_401():
    response = Client().get("/api/governance/customers", HTTP_AUTHORIZATION="Token not-a-token")
    assert response.status_code == 401


def test_session_post_without_csrf_token_is_refused():
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user(staff=True))
    response = call(client, "post", "/api/governance/customers")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_session_post_with_csrf_token_is_admitted():
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user(staff=True))
    client.get("/admin/")  # sets the csrftoken cookie, as the browser would have it
    token = client.cookies["csrftoken"].value
    body = '{"name": "acme"}'
    response = client.post("/api/governance/customers", body, content_type="application/json",
                           HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201


def test_token_post_needs_no_csrf_token():
    token = Token.objects.create(user=make_user(staff=True))
    client = Client(enforce_csrf_checks=True)
    response = client.post("/api/governance/customers", '{"name": "acme"}',
                           content_type="application/json", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 201


# --- manage.py create_api_token --------------------------------------------------------------

def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("create_api_token", *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


def test_create_api_token_makes_a_staff_user_whose_token_is_admitted():
    token, note = run("ops")
    user = get_user_model().objects.get(username="ops")
    assert user.is_staff and not user.has_usable_password()
    assert "Created staff user 'ops'" in note
    response = Client().get("/api/governance/teams", HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 200


def test_create_api_token_prints_only_the_token_on_stdout():
    make_user(staff=True)
    token, note = run("u-True")
    assert Token.objects.get(user__username="u-True").key == token
    assert note == ""


def test_create_api_token_refuses_a_non_staff_user():
    make_user(staff=False)
    with pytest.raises(CommandError, match="not staff"):
        run("u-False")
    assert not Token.objects.exists()


def test_create_api_token_does_not_show_an_existing_token_again():
    first, _ = run("ops")
    with pytest.raises(CommandError, match="--rotate"):
        run("ops")
    assert Token.objects.get().key == first


def test_create_api_token_rotate_replaces_the_token():
    first, _ = run("ops")
    second, note = run("ops", "--rotate")
    assert second != first and "no longer works" in note
    response = Client().get("/api/governance/teams", HTTP_AUTHORIZATION=f"Token {first}")
    assert response.status_code == 401
