"""Per-tenant ingestion settings (tenant schema, one row). Imported by metrics/models.py."""

from __future__ import annotations

from django.db import models


class IngestSettings(models.Model):
    """How a tenant's events are stored; a missing row means the defaults.

    `store_content`: keep input/output text at all (of sampled, error, tail and
    violating events, redacted). Off: content is never written. How long kept
    content lives is compliance's `content_retention_days`; which events are
    sampled is quality's sampling policy.
    """

    store_content = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"content {'on' if self.store_content else 'off'}"
