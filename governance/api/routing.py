"""URL helper shared by the governance API modules: one route, with and without a trailing slash."""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, path
from rest_framework.views import APIView


def both_slashes(
    route: str, view: type[APIView], name: str, *, actions: dict[str, str] | None = None
) -> list[URLPattern]:
    """`route` (as the spec writes it) and `route/` serve the same view; only the first is in
    the schema. `actions` maps methods to a viewset's actions."""
    viewset: dict[str, Any] = {} if actions is None else {"actions": actions}
    return [
        path(route, view.as_view(**viewset), name=name),
        path(f"{route}/", view.as_view(**viewset, schema=None)),
    ]
