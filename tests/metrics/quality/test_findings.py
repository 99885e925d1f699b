"""The shared finding service: open once, update with an audited diff, resolve once."""

from __future__ import annotations

from datetime import UTC, date, datetime

from compliance.models import AuditEntry
from metrics.quality.findings import FindingKey, finding_raise, finding_resolve
from metrics.quality.models import FindingKind, QualityFinding

NOW = datetime(2026, 11, 26, 6, tzinfo=UTC)
KEY = FindingKey(FindingKind.DRIFT, "chat", "billing")
VALUES = {
    "delta_points": -2.0,
    "ci_low": -3.0,
    "ci_high": -1.0,
    "started_on": date(2026, 11, 1),
    "method": "cusum-rolling",
}


def _actions(finding: QualityFinding) -> list[str]:
    return list(
        AuditEntry.objects.filter(chain="alpha", object_id=str(finding.pk))
        .order_by("pk")
        .values_list("action", flat=True)
    )


def test_finding_is_opened_updated_with_a_diff_and_resolved_once(in_alpha) -> None:
    finding, opened = finding_raise(
        tenant_slug="alpha", key=KEY, values=VALUES, now=NOW, on_open={"details": {"n": 1}}
    )
    assert opened and finding.active and finding.detected_at == NOW
    assert finding.details == {"n": 1}

    # The same evidence again (the job ran twice): no second finding, no audit noise.
    again, opened = finding_raise(tenant_slug="alpha", key=KEY, values=VALUES, now=NOW)
    assert (again.pk, opened) == (finding.pk, False)
    assert _actions(finding) == ["quality.finding_opened"]

    worse = {**VALUES, "delta_points": -2.5, "ci_low": -3.4}
    finding_raise(tenant_slug="alpha", key=KEY, values=worse, now=NOW)
    updated = AuditEntry.objects.get(
        chain="alpha", action="quality.finding_updated", object_id=str(finding.pk)
    )
    assert updated.before == {"delta_points": -2.0, "ci_low": -3.0}
    assert updated.after == {"delta_points": -2.5, "ci_low": -3.4}

    # Another subject (a deployment watch) is a separate finding.
    other = FindingKey(FindingKind.DRIFT, "chat", "billing", "deployment:1")
    assert finding_raise(tenant_slug="alpha", key=other, values=VALUES, now=NOW)[1]

    closed = finding_resolve(tenant_slug="alpha", key=KEY, now=NOW, evidence={"statistic": 0.4})
    assert closed is not None and closed.pk == finding.pk
    assert not closed.active and closed.resolved_at == NOW
    assert finding_resolve(tenant_slug="alpha", key=KEY, now=NOW, evidence={}) is None
    assert _actions(finding) == [
        "quality.finding_opened",
        "quality.finding_updated",
        "quality.finding_resolved",
    ]
    assert QualityFinding.objects.filter(active=True).count() == 1
