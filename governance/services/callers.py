"""Control-plane writes for callers."""
