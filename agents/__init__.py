"""Local agents: registration, heartbeats, expiry, and the agent worker that serves local models."""
