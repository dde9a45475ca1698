"""Control-plane tables, one module per area; Django finds them all here."""

from governance.models.callers_and_routing import (
    ConfigVersion,
    Customer,
    RoutingProfile,
    RoutingRule,
    Team,
    VirtualKey,
    new_id,
)
from governance.models.preferences import *  # noqa: F403 - routing preferences (intent routing)
from governance.models.routes import *  # noqa: F403 - routes and nodes

__all__ = ["ConfigVersion", "Customer", "RoutingProfile", "RoutingRule", "Team", "VirtualKey", "new_id"]
