"""Governance API: rules (placeholder until its endpoints land)."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
