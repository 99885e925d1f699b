"""Compliance records. The audit log lives in `public`, one hash chain per tenant."""

from __future__ import annotations

from django.db import models

PLATFORM_CHAIN = "public"


class AuditEntry(models.Model):
    """One state change. Append-only: database triggers refuse UPDATE, DELETE, TRUNCATE."""

    chain = models.CharField(max_length=63, help_text="tenant slug, or 'public' for platform")
    seq = models.BigIntegerField()
    occurred_at = models.DateTimeField()
    actor_type = models.CharField(max_length=16)
    actor_id = models.CharField(max_length=64, blank=True)
    actor_label = models.CharField(max_length=254, blank=True)
    actor_role = models.CharField(max_length=32, blank=True)
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64, blank=True)
    before = models.JSONField(default=dict)
    after = models.JSONField(default=dict)
    ip = models.CharField(max_length=64, blank=True)
    user_agent = models.CharField(max_length=400, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["chain", "seq"], name="auditentry_chain_seq_unique")
        ]
        indexes = [
            models.Index(fields=["chain", "-occurred_at"], name="auditentry_chain_time"),
            models.Index(fields=["chain", "action"], name="auditentry_chain_action"),
        ]
        ordering = ["chain", "seq"]

    def __str__(self) -> str:
        return f"{self.chain}#{self.seq} {self.action}"


class AuditChainHead(models.Model):
    """The last entry of each chain; locking this row serialises writers of the chain."""

    chain = models.CharField(max_length=63, unique=True)
    seq = models.BigIntegerField(default=0)
    head_hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"{self.chain} @ {self.seq}"
