"""Control-plane tables."""

from __future__ import annotations

from django.db import models


class ConfigVersion(models.Model):
    """One row: bumped on every config save so data-plane processes know to rebuild."""

    version = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"config v{self.version}"
