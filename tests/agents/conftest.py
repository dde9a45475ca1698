"""Every agent test runs with a registration secret and the default heartbeat settings."""

from __future__ import annotations

import pytest

from tests.agents.protocol import SECRET


@pytest.fixture(autouse=True)
def _agent_settings(settings):  # type: ignore[no-untyped-def]
    settings.AGENT_REGISTRATION_TOKEN = SECRET
    settings.AGENT_HEARTBEAT_TIMEOUT = 60.0
    settings.AGENT_HEARTBEAT_INTERVAL = 15.0
