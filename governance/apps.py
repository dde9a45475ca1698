"""App config for the control plane: every config table bumps the config version."""

from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = "Governance"

    def ready(self) -> None:
        from governance import config_version
        from governance.models import (
            Customer, Route, RouteNode, RoutingProfile, RoutingRule, Team, VirtualKey,
        )

        config_version.watch(Customer, Team, VirtualKey, RoutingProfile, RoutingRule, Route, RouteNode)
