"""Control-plane tables: routes (placeholder until that work lands)."""

__all__: list[str] = []
