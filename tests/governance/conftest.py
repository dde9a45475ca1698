"""Governance test fixtures: API clients authenticated as a staff (or a non-staff) user."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient


def staff_client(*, staff: bool = True) -> APIClient:
    """An APIClient authenticated as a new user, staff unless told otherwise."""
    user = get_user_model().objects.create_user(f"user-{uuid.uuid4().hex[:12]}", is_staff=staff)
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def api(db: None) -> APIClient:
    return staff_client()
