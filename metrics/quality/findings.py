"""Quality findings: the one place they are opened, updated and resolved.

The daily drift job (drift.py) and the judge-agreement check (calibration.py)
each keep at most one active finding per (kind, feature, category, subject);
both go through these two services so every finding is locked, written and
audited the same way. Alerts reads findings via
selectors.quality_findings_active().
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from compliance.services import audit_record
from core.services import model_update
from metrics.quality.models import QualityFinding

# What a daily re-evaluation may change on an open finding.
UPDATABLE_FIELDS = [
    "delta_points",
    "ci_low",
    "ci_high",
    "baseline",
    "current",
    "started_on",
    "method",
    "details",
]


@dataclass(frozen=True)
class FindingKey:
    kind: str
    feature: str = ""
    content_category: str = ""
    subject: str = ""


def _active_locked(key: FindingKey) -> QualityFinding | None:
    return (
        QualityFinding.objects.select_for_update()
        .filter(
            kind=key.kind,
            feature=key.feature,
            content_category=key.content_category,
            subject=key.subject,
            active=True,
        )
        .order_by("pk")
        .first()
    )


def finding_raise(
    *,
    tenant_slug: str,
    key: FindingKey,
    values: dict[str, Any],
    now: datetime,
    on_open: dict[str, Any] | None = None,
) -> tuple[QualityFinding, bool]:
    """Open a finding for `key`, or bring the active one up to date. Returns (finding, opened).

    `values` are the current evidence (UPDATABLE_FIELDS); `on_open` holds fields
    set only when the finding is first opened (a deployment, a fixed start date).
    Call inside the caller's transaction.
    """
    existing = _active_locked(key)
    if existing is None:
        finding = QualityFinding.objects.create(
            kind=key.kind,
            feature=key.feature,
            content_category=key.content_category,
            subject=key.subject,
            detected_at=now,
            **(on_open or {}),
            **values,
        )
        audit_record(
            tenant_slug=tenant_slug,
            action="quality.finding_opened",
            object_type="quality_finding",
            object_id=finding.pk,
            after={
                "kind": key.kind,
                "feature": key.feature,
                "category": key.content_category,
                "subject": key.subject,
                **values,
            },
        )
        return finding, True
    finding, before, after = model_update(instance=existing, fields=UPDATABLE_FIELDS, data=values)
    if after:  # an unchanged re-evaluation (the job ran twice) leaves no entry
        audit_record(
            tenant_slug=tenant_slug,
            action="quality.finding_updated",
            object_type="quality_finding",
            object_id=finding.pk,
            before=before,
            after=after,
        )
    return finding, False


def finding_resolve(
    *, tenant_slug: str, key: FindingKey, now: datetime, evidence: dict[str, Any]
) -> QualityFinding | None:
    """Close the active finding of `key`, if there is one; `evidence` says why (audited)."""
    existing = _active_locked(key)
    if existing is None:
        return None
    finding, _, _ = model_update(
        instance=existing,
        fields=["active", "resolved_at"],
        data={"active": False, "resolved_at": now},
    )
    audit_record(
        tenant_slug=tenant_slug,
        action="quality.finding_resolved",
        object_type="quality_finding",
        object_id=finding.pk,
        before={"active": True},
        after={"active": False, **evidence},
    )
    return finding
