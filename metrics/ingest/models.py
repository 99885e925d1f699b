"""Per-tenant ingestion settings (tenant schema, one row). Imported by metrics/models.py."""

from __future__ import annotations

from django.db import models

DEFAULT_CONTENT_RETENTION_DAYS = 30
DEFAULT_SAMPLE_RATE = 0.005


class IngestSettings(models.Model):
    """How a tenant's events are stored; a missing row means the defaults.

    `store_content`: keep input/output text at all (of sampled, error, tail and
    violating events, redacted). Off: content is never written. How long kept
    content lives is compliance's `content_retention_days`; which events are
    sampled is quality's sampling policy.
    """

    store_content = models.BooleanField(default=True)
    # Unused since retention moved to compliance and sampling to quality; dropped by a
    # later migration (kept so the schema and the migrations agree meanwhile).
    content_retention_days = models.PositiveIntegerField(default=DEFAULT_CONTENT_RETENTION_DAYS)
    sample_rate = models.FloatField(default=DEFAULT_SAMPLE_RATE)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"content {'on' if self.store_content else 'off'}"
