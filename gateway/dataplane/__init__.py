"""The data plane: a lean ASGI app for /v1/*, /routing/* and /metrics (see docs/architecture.md)."""
