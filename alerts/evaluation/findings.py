"""Quality findings (drift, judge-human agreement) kept active by the quality pipeline.

Read through metrics.quality.selectors.quality_findings_active. A drift
finding counts only when quality dropped (negative delta); a judge that
disagrees with humans counts either way. The size is in points (0-100 scale).
"""

from __future__ import annotations

from typing import Any

from metrics.quality.selectors import quality_findings_active


def active_quality_findings() -> list[dict[str, Any]]:
    out = []
    for finding in quality_findings_active():
        if finding.kind == "drift" and finding.delta_points >= 0:
            continue
        out.append(
            {
                "pk": finding.id,
                "kind": finding.kind,
                "feature": finding.feature,
                "content_category": finding.category,
                "delta_points": finding.delta_points,
                "detected_at": finding.detected_at,
            }
        )
    return out
