"""Control-plane tables: config version, callers (teams, customers, virtual keys), routing profiles and rules."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models.functions import Lower


def new_id() -> str:
    return uuid.uuid4().hex


class ConfigVersion(models.Model):
    """One row: bumped on every config save so data-plane processes know to rebuild."""

    version = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"config v{self.version}"


class Customer(models.Model):
    id = models.CharField(primary_key=True, max_length=64, default=new_id)
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="customer_name_ci_unique")]

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    id = models.CharField(primary_key=True, max_length=64, default=new_id)
    name = models.CharField(max_length=200)
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="teams")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="team_name_ci_unique")]

    def __str__(self) -> str:
        return self.name


class VirtualKey(models.Model):
    """A caller's key. Only its SHA-256 is stored; the secret is shown once, at creation."""

    id = models.CharField(primary_key=True, max_length=64, default=new_id)
    name = models.CharField(max_length=200)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    key_prefix = models.CharField(max_length=16, editable=False, help_text="First characters, to recognise a key")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="keys")
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="keys"
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="virtual_key_name_ci_unique")]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"


class RoutingProfile(models.Model):
    """A virtual provider (`light/...`) mapped to concrete targets; `targets` is validated by the API."""

    class Strategy(models.TextChoices):
        ORDERED_FAILOVER = "ordered_failover"
        WEIGHTED = "weighted"

    id = models.CharField(primary_key=True, max_length=100)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    virtual_provider = models.CharField(max_length=63)
    strategy = models.CharField(max_length=20, choices=Strategy.choices, default=Strategy.ORDERED_FAILOVER)
    enabled = models.BooleanField(default=True)
    targets = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="profile_name_ci_unique"),
            models.UniqueConstraint(Lower("virtual_provider"), name="profile_vprovider_ci_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.virtual_provider})"


class RoutingRule(models.Model):
    """A CEL expression over the request; when true, traffic goes to weighted targets, then fallbacks."""

    class Scope(models.TextChoices):
        GLOBAL = "global"
        TEAM = "team"
        CUSTOMER = "customer"
        VIRTUAL_KEY = "virtual_key"

    id = models.CharField(primary_key=True, max_length=64, default=new_id)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    enabled = models.BooleanField(default=True)
    cel_expression = models.TextField()
    targets = models.JSONField(default=list)
    fallbacks = models.JSONField(default=list, blank=True)
    scope = models.CharField(max_length=20, choices=Scope.choices, default=Scope.GLOBAL)
    scope_id = models.CharField(max_length=64, null=True, blank=True)
    priority = models.IntegerField(default=0)
    query = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["priority", "created_at"]
        indexes = [models.Index(fields=["scope", "scope_id"])]

    def __str__(self) -> str:
        return self.name
