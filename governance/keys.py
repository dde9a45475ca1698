"""Virtual-key secrets: generated once, stored only as a SHA-256 digest."""

from __future__ import annotations

import hashlib
import secrets

PREFIX = "sk-sy-"


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def generate_key() -> tuple[str, str, str]:
    """A new secret, the prefix shown to recognise it, and the digest to store."""
    secret = PREFIX + secrets.token_urlsafe(32)
    return secret, secret[: len(PREFIX) + 6], hash_key(secret)


def bearer_digest(authorization: str) -> str | None:
    """`Bearer <secret>` → the secret's digest (None when there is no bearer token)."""
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return hash_key(token)
