"""Budgets platform ops set per tenant (and optionally per feature); tenant schema."""

from __future__ import annotations

from django.db import models


class Budget(models.Model):
    feature = models.CharField(max_length=128, blank=True, default="", unique=True)  # "" = tenant
    daily_usd = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    monthly_usd = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    hard_cap = models.BooleanField(default=False)  # budget check denies once reached
    projection_tolerance_pct = models.PositiveIntegerField(default=20)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["feature"]

    def __str__(self) -> str:
        return f"budget {self.feature or 'tenant'}"
