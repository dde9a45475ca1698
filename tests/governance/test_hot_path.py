"""With rules, profiles and virtual keys configured, warm requests still make no database query."""

from __future__ import annotations

import pytest
from django.db.backends.utils import CursorWrapper

from governance.keys import generate_key
from governance.models import RoutingProfile, RoutingRule, Team, VirtualKey
from providers.models import Provider

pytestmark = pytest.mark.django_db(transaction=True)

HI = [{"role": "user", "content": "hi"}]


@pytest.fixture
def configured(openai_upstream, fake_openai_backup):  # type: ignore[no-untyped-def]
    Provider.objects.create(name="backup", type="openai", base_url=fake_openai_backup.url, api_key="sk-b")
    RoutingProfile.objects.create(
        id="light", name="Light", virtual_provider="light",
        targets=[{"provider": "openai", "virtual_model": "light", "model": "gpt-4o-mini", "priority": 1},
                 {"provider": "backup", "model": "gpt-4o-mini", "priority": 2}],
    )
    for i in range(20):  # rules that do not match, then one that does
        RoutingRule.objects.create(name=f"r{i}", cel_expression=f'model == "other-{i}"', priority=i,
                                   targets=[{"provider": "backup", "model": "x", "weight": 1.0}])
    RoutingRule.objects.create(name="premium", priority=100, cel_expression='headers["x-tier"] == "premium"',
                               targets=[{"provider": "backup", "model": "gpt-4o", "weight": 1.0}])
    secret, prefix, digest = generate_key()
    VirtualKey.objects.create(name="k", key_hash=digest, key_prefix=prefix, team=Team.objects.create(name="t"))
    return {"authorization": f"Bearer {secret}"}


async def test_rules_profiles_and_keys_are_served_without_queries(gateway, configured, settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    settings.CONFIG_VERSION_CHECK_SECONDS = 60  # the periodic version poll is not per request
    requests = [
        ({"model": "light/light", "messages": HI}, configured),
        ({"model": "gpt-4o", "messages": HI}, {**configured, "x-tier": "premium"}),
        ({"model": "gpt-4o", "messages": HI, "stream": True}, configured),
    ]
    for body, headers in requests:  # warm-up builds the snapshot
        assert (await gateway.post("/v1/chat/completions", json=body, headers=headers)).status_code == 200
    executed: list[str] = []
    original = CursorWrapper.execute

    def counting(self, sql, params=None):  # type: ignore[no-untyped-def]
        executed.append(sql)
        return original(self, sql, params)

    monkeypatch.setattr(CursorWrapper, "execute", counting)
    served = []
    for body, headers in requests * 3:
        response = await gateway.post("/v1/chat/completions", json=body, headers=headers)
        served.append((response.status_code, response.headers["x-switchyard-route"]))
    assert executed == []
    assert served[:3] == [(200, "profile"), (200, "rule"), (200, "heuristic")]
