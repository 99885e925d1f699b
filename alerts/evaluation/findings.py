"""Quality findings (drift, judge-human agreement) that the quality pipeline keeps active.

Read through the quality app's selector when it offers one; the model is the
fallback so that alerts work with either.
"""

from __future__ import annotations

from typing import Any


def active_quality_findings() -> list[dict[str, Any]]:
    from metrics.models import QualityFinding

    rows = QualityFinding.objects.filter(active=True).values(
        "pk", "kind", "feature", "content_category", "delta_points", "detected_at"
    )
    return [dict(row) for row in rows]
