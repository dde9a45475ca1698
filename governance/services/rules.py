"""Control-plane writes for rules."""
