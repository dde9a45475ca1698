"""OpenAPI: a public schema (it holds no secrets) and a Swagger UI with locally served assets."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator

pytestmark = pytest.mark.django_db

CALLER_PATHS = [
    "/api/governance/customers", "/api/governance/customers/{id}",
    "/api/governance/teams", "/api/governance/teams/{id}",
    "/api/governance/virtual-keys", "/api/governance/virtual-keys/{id}",
    "/api/governance/virtual-keys/{id}/rotate",
]
_ASSET = re.compile(r"""(?:src|href)=["']([^"']+)["']""")


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return Client().get("/api/schema/", {"format": "json"}).json()


def test_schema_is_openapi_3_and_served_without_authentication():
    response = Client().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")


def test_schema_documents_every_callers_route_once(schema):
    assert set(CALLER_PATHS) <= set(schema["paths"])
    assert not [p for p in schema["paths"] if p.rstrip("/") in CALLER_PATHS and p.endswith("/")]


def test_schema_declares_token_and_session_auth_on_callers_routes(schema):
    security = schema["paths"]["/api/governance/customers"]["get"]["security"]
    assert {name for entry in security for name in entry} == {"tokenAuth", "cookieAuth"}


def test_schema_shows_the_secret_only_in_create_and_rotate_responses(schema):
    components = schema["components"]["schemas"]
    assert "key" in components["VirtualKeyCreated"]["properties"]
    assert "key" in components["VirtualKeyRotated"]["properties"]
    assert "key" not in components["VirtualKeyUpdated"]["properties"]
    assert {"key", "key_hash"}.isdisjoint(components["VirtualKey"]["properties"])


def test_list_responses_are_documented_as_envelopes_with_a_count(schema):
    ref = schema["paths"]["/api/governance/teams"]["get"]["responses"]["200"]["content"]
    name = ref["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert set(schema["components"]["schemas"][name]["properties"]) == {"teams", "count"}


def test_callers_views_generate_without_warnings_or_errors():
    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        SchemaGenerator().get_schema(request=None, public=True)
    messages = [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
    markers = ("callers.py", "CustomerViewSet", "TeamViewSet", "VirtualKeyViewSet",
               "/customers", "/teams", "/virtual-keys")
    assert [m for m in messages if any(marker in m for marker in markers)] == []


def test_docs_page_is_public_and_references_only_local_assets():
    response = Client().get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assets = _ASSET.findall(html)
    assert len(assets) >= 3
    assert all(a.startswith("/static/drf_spectacular_sidecar/") for a in assets), assets
    assert "cdn" not in html.lower()
    assert "https://" not in html and "http://" not in html


def test_docs_page_assets_are_served_by_the_app():
    html = Client().get("/api/docs/").content.decode()
    for asset in _ASSET.findall(html):
        response = Client().get(asset)
        assert response.status_code == 200, asset
        assert int(response.headers["Content-Length"]) > 0
