"""Service level objectives platform ops set per tenant (tenant schema)."""

from __future__ import annotations

from django.db import models


class SloKind(models.TextChoices):
    LATENCY_P99 = "latency_p99", "p99 latency below (ms)"
    AVAILABILITY = "availability", "Availability at least (%)"


class Slo(models.Model):
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=SloKind.choices)
    target = models.FloatField()  # ms for latency, percent for availability
    window_days = models.PositiveIntegerField(default=30)  # 28 or 30
    feature = models.CharField(max_length=128, blank=True, default="")
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name
