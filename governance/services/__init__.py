"""Control-plane writes, one module per area (profiles, rules, callers)."""
