"""Agent: a local agent that registered its endpoint and models, and the provider that routes to it."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db.models import (
    CASCADE,
    CharField,
    DateTimeField,
    Index,
    JSONField,
    Model,
    OneToOneField,
    TextChoices,
    UniqueConstraint,
    URLField,
)
from django.db.models.functions import Lower

from providers.models import Provider

NAME_PATTERN = r"^[A-Za-z0-9._-]{1,63}$"
# One model name an agent may announce (a Hugging Face id like org/model:tag fits).
MODEL_NAME_PATTERN = r"^[A-Za-z0-9._:/-]{1,200}$"
MAX_MODELS = 100


class Agent(Model):
    """A registered agent; its secret is stored only as a SHA-256 digest.

    `provider` is the Provider row made for it (type `local`, `base_url` = the
    registered endpoint), so the data plane forwards to the endpoint the agent gave.
    """

    class Status(TextChoices):
        ALIVE = "alive"
        EXPIRED = "expired"

    name = CharField(
        max_length=63, unique=True,
        validators=[RegexValidator(NAME_PATTERN, "Use 1-63 letters, digits, '.', '_' or '-'.")],
    )
    endpoint = URLField(max_length=500)
    token_hash = CharField(max_length=64)
    models = JSONField(default=list, help_text="Model names the agent serves, as it announced them.")
    status = CharField(max_length=10, choices=Status.choices, default=Status.ALIVE)
    last_heartbeat = DateTimeField()
    registered_at = DateTimeField(help_text="Last (re-)registration, when the token was issued.")
    provider = OneToOneField(Provider, on_delete=CASCADE, related_name="agent")

    class Meta:
        ordering = ["name"]
        constraints = [UniqueConstraint(Lower("name"), name="agent_name_ci_unique")]
        indexes = [Index(fields=["status", "last_heartbeat"], name="agent_status_heartbeat")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_alive(self) -> bool:
        return self.status == self.Status.ALIVE
