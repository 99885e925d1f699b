"""Per-tenant negotiated prices (tenant schema). Imported by metrics/models.py."""

from __future__ import annotations

from django.db import models


class PriceOverride(models.Model):
    """A tenant's own price for a model, from `effective_from` (inclusive) to `effective_to`.

    `model` is matched like the shipped table (case, provider prefixes and dated
    versions are ignored), so an override for "gpt-4o" also prices
    "gpt-4o-2024-08-06". It wins over the shipped table for events in its period.
    """

    model = models.CharField(max_length=128)
    input_per_m = models.DecimalField(max_digits=14, decimal_places=6)
    output_per_m = models.DecimalField(max_digits=14, decimal_places=6)
    cached_input_per_m = models.DecimalField(max_digits=14, decimal_places=6, null=True, blank=True)
    effective_from = models.DateField()
    effective_to = models.DateField(null=True, blank=True)
    note = models.CharField(max_length=256, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["model", "effective_from"], name="priceoverride_model")]

    def __str__(self) -> str:
        return f"{self.model} from {self.effective_from}"
