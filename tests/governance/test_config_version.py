"""Config-version bumps: one per saved row, and exactly one for a batch of many writes."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from governance import config_version
from governance.config_version import read_version
from governance.models import Customer, RoutingProfile, Team
from governance.services.profiles import profiles_import

pytestmark = pytest.mark.django_db


def profile(n: int) -> dict[str, Any]:
    return {"id": f"p{n}", "name": f"P{n}", "description": "", "virtual_provider": f"v{n}",
            "strategy": "ordered_failover", "enabled": True,
            "targets": [{"provider": "openai", "model": "gpt-4o"}]}


def bumps_during(capture: Any, write: Any) -> int:
    before = read_version()
    with capture(execute=True):
        write()
    return read_version() - before


def test_each_saved_row_bumps_once(django_capture_on_commit_callbacks):
    def write() -> None:
        Customer.objects.create(name="a")
        Team.objects.create(name="b")

    assert bumps_during(django_capture_on_commit_callbacks, write) == 2


def test_importing_many_profiles_over_many_bumps_once(django_capture_on_commit_callbacks):
    for n in range(4):
        RoutingProfile.objects.create(**profile(n))
    imported = [profile(n) for n in range(10, 16)]

    def write() -> None:
        profiles_import(profiles=imported)

    assert bumps_during(django_capture_on_commit_callbacks, write) == 1
    ids = sorted(RoutingProfile.objects.values_list("id", flat=True))
    assert ids == [f"p{n}" for n in range(10, 16)]


def test_a_batch_of_saves_and_deletes_bumps_once(django_capture_on_commit_callbacks):
    def write() -> None:
        with config_version.batch():
            rows = [Customer.objects.create(name=f"c{n}") for n in range(5)]
            with config_version.batch():  # nested: still the outer batch's one bump
                Team.objects.create(name="t")
            rows[0].delete()

    assert bumps_during(django_capture_on_commit_callbacks, write) == 1


def test_a_batch_that_writes_nothing_does_not_bump(django_capture_on_commit_callbacks):
    def write() -> None:
        with config_version.batch():
            Customer.objects.count()

    assert bumps_during(django_capture_on_commit_callbacks, write) == 0


def test_a_rolled_back_batch_does_not_bump(django_capture_on_commit_callbacks):
    def write() -> None:
        with pytest.raises(RuntimeError), transaction.atomic(), config_version.batch():
            Customer.objects.create(name="gone")
            raise RuntimeError

    assert bumps_during(django_capture_on_commit_callbacks, write) == 0
    assert not Customer.objects.exists()


def test_saves_after_a_batch_bump_again(django_capture_on_commit_callbacks):
    def write() -> None:
        with config_version.batch():
            Customer.objects.create(name="in")
        Customer.objects.create(name="after")

    assert bumps_during(django_capture_on_commit_callbacks, write) == 2
