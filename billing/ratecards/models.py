"""Rate cards: how a tenant is charged for its AI usage (public schema, versioned)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class PricingMode(models.TextChoices):
    PASS_THROUGH = "pass_through", "Provider cost plus a markup"
    PER_TOKEN = "per_token", "Price per 1M tokens per model"
    PER_REQUEST = "per_request", "Price per request per feature"


class RateCard(models.Model):
    """One version of a tenant's rate card, in force from `effective_from` (a UTC day).

    Rows are never edited: a change is a new version. The card in force on a day
    is the highest version whose `effective_from` is on or before that day.
    `prices` depends on the mode:
      per_token:   {"<model>": {"input": "2.50", "output": "10.00", "cached_input": "1.25"}}
                   (USD per 1M tokens; key "*" prices any other model)
      per_request: {"<feature>": "0.002"} (USD per request; key "*" for any other feature)
    """

    tenant = models.ForeignKey(
        "tenants.Tenant", on_delete=models.PROTECT, related_name="rate_cards"
    )
    version = models.PositiveIntegerField()
    effective_from = models.DateField()
    mode = models.CharField(max_length=16, choices=PricingMode.choices)
    markup_percent = models.DecimalField(max_digits=7, decimal_places=3, default=0)
    prices = models.JSONField(default=dict, blank=True)
    included_usd = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    minimum_usd = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    currency = models.CharField(max_length=3, default="USD")
    note = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "version"], name="ratecard_unique_version")
        ]
        ordering = ["tenant_id", "-version"]

    def __str__(self) -> str:
        return f"{self.tenant_id} v{self.version} from {self.effective_from}"
