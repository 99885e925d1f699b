"""Closed chargeback statements: immutable snapshots of a period (public schema)."""

from __future__ import annotations

from django.db import models


class Statement(models.Model):
    """A closed period of one tenant. Written once with its lines; the database refuses
    UPDATE and DELETE on both tables (migration 0002), so a later rate card change or
    late event never alters it."""

    tenant = models.ForeignKey(
        "tenants.Tenant", on_delete=models.PROTECT, related_name="statements"
    )
    period_start = models.DateField()
    period_end = models.DateField()  # exclusive
    currency = models.CharField(max_length=3, default="USD")
    requests = models.BigIntegerField(default=0)
    input_tokens = models.BigIntegerField(default=0)
    output_tokens = models.BigIntegerField(default=0)
    provider_cost = models.DecimalField(max_digits=20, decimal_places=10)
    usage_charge = models.DecimalField(max_digits=20, decimal_places=10)
    allowance_credit = models.DecimalField(max_digits=20, decimal_places=10, default=0)
    minimum_topup = models.DecimalField(max_digits=20, decimal_places=10, default=0)
    total_charge = models.DecimalField(max_digits=14, decimal_places=2)  # billed, to the cent
    rate_cards = models.JSONField(default=list)  # snapshots of the cards used
    closed_at = models.DateTimeField()
    closed_by = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "period_start", "period_end"], name="statement_unique_period"
            )
        ]
        ordering = ["-period_start", "tenant_id"]

    def __str__(self) -> str:
        return f"{self.tenant_id} {self.period_start}..{self.period_end}"


class StatementLine(models.Model):
    """Usage of one (feature, model, query type, customer) under one rate card version."""

    statement = models.ForeignKey(Statement, on_delete=models.PROTECT, related_name="lines")
    feature = models.CharField(max_length=128)
    model = models.CharField(max_length=128)
    provider = models.CharField(max_length=64, blank=True, default="")
    query_type = models.CharField(max_length=128, blank=True, default="")
    customer = models.CharField(max_length=128, blank=True, default="")
    rate_card_version = models.PositiveIntegerField(null=True)
    requests = models.BigIntegerField()
    input_tokens = models.BigIntegerField()
    output_tokens = models.BigIntegerField()
    cached_input_tokens = models.BigIntegerField(default=0)
    provider_cost = models.DecimalField(max_digits=20, decimal_places=10)
    charged = models.DecimalField(max_digits=20, decimal_places=10)

    class Meta:
        ordering = ["statement_id", "feature", "model", "query_type", "customer"]

    def __str__(self) -> str:
        return f"{self.feature}/{self.model}/{self.query_type}/{self.customer}"
