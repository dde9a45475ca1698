"""Provider registry, model registry and the wire-format adapters."""
