"""Control-plane tables: preferences (placeholder until that work lands)."""

__all__: list[str] = []
