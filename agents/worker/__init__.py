"""The local agent: OpenAI-compatible server for local models, registered with the gateway."""
