"""Control-plane writes for profiles."""
