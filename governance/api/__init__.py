"""The governance REST API under /api/governance/."""
