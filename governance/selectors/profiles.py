"""Routing-profile reads: simulate a request on a profile with the data plane's own resolver."""

from __future__ import annotations

import dataclasses
from typing import Any

from gateway.dataplane.resolver import profile_chain
from governance.config_version import read_version
from governance.snapshot import compile_snapshot


def profile_simulate(
    *, model: str, request_type: str, capabilities: frozenset[str]
) -> dict[str, Any] | None:
    """What `model` (`<virtual_provider>/<alias>`) resolves to now; None without an enabled profile.

    Every decision comes from `resolver.profile_chain`: the chain once for the whole
    profile (a `weighted` profile draws its primary afresh each call), then once per
    target alone to learn whether that target is eligible and, if not, why.
    """
    snapshot = compile_snapshot(read_version())
    prefix, _, alias = model.partition("/")
    profile = snapshot.profiles.get(prefix.lower())
    if profile is None:
        return None
    chain = profile_chain(snapshot, profile, alias, capabilities, request_type)
    candidates = []
    for target in profile.targets:
        skipped: list[tuple[str, str]] = []
        alone = dataclasses.replace(profile, targets=(target,))
        served = profile_chain(snapshot, alone, alias, capabilities, request_type, skipped=skipped)
        if not served and not skipped:
            continue  # the target serves another alias of this profile
        candidates.append({
            "provider": target.provider,
            "model": target.model or alias,
            "priority": target.priority,
            "weight": target.weight,
            "eligible": bool(served),
            "reason": skipped[0][1] if skipped else None,
        })
    picks = [{"provider": c.provider.name, "model": c.model} for c in chain]
    return {
        "model": model,
        "profile": profile,
        "candidates": candidates,
        "primary": picks[0] if picks else None,
        "fallbacks": picks[1:],
    }
