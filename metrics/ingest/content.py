"""Which events keep their input/output text, and in what form.

Content is kept only for events someone will look at: sampled for quality
(deterministic, metrics.sampling), errors (any status but ok), tail latency
(over the endpoint's threshold, 2 s by default), policy violations and
refusals. It is redacted first (metrics.redaction) and expires after the
tenant's content retention (compliance's retention settings, 30 days by
default). A tenant can switch content storage off (IngestSettings.store_content).
Sampling follows the quality policies (metrics.quality.sampling, 0.5 % default).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from compliance.services import compliance_settings_get
from metrics.ingest.models import IngestSettings
from metrics.quality.sampling import is_flagged, sampling_decide
from metrics.redaction import redact_content
from metrics.rollups.models import DEFAULT_TAIL_THRESHOLD_MS, EndpointThreshold


@dataclass(frozen=True)
class ContentPolicy:
    store_content: bool
    retention: timedelta
    thresholds: dict[str, float]

    def tail_threshold(self, endpoint: str) -> float:
        return self.thresholds.get(endpoint, DEFAULT_TAIL_THRESHOLD_MS)

    def apply(self, row: dict[str, Any], *, received_at: datetime) -> None:
        """Set is_sampled/is_tail and keep (redacted) or drop input/output in `row`."""
        latency = row.get("latency_ms")
        row["is_tail"] = latency is not None and latency > self.tail_threshold(row["endpoint"])
        # Quality's per-feature, category-stratified policies decide (metrics/quality/sampling.py).
        row["is_sampled"] = sampling_decide(
            event_id=row["event_id"],
            feature=row["feature"],
            content_category=row.get("content_category") or "",
            flagged=is_flagged(row.get("attributes")),
        )
        keep = self.store_content and (
            row["is_sampled"]
            or row["is_tail"]
            or row["status"] != "ok"
            or bool(row["policy_violations"])
            or row["refused"]
        )
        if keep and (row["input"] or row["output"]):
            row["input"] = redact_content(row["input"])
            row["output"] = redact_content(row["output"])
            row["content_expires_at"] = received_at + self.retention
        else:
            row["input"] = row["output"] = ""
            row["content_expires_at"] = None


def content_policy_current() -> ContentPolicy:
    """The current tenant's policy (three small queries)."""
    store_content = IngestSettings.objects.filter(pk=1).values_list("store_content", flat=True)
    retention_days = compliance_settings_get().content_retention_days
    return ContentPolicy(
        store_content=next(iter(store_content), True),
        retention=timedelta(days=retention_days),
        thresholds=dict(EndpointThreshold.objects.values_list("endpoint", "threshold_ms")),
    )
