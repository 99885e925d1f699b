"""Celery entry points of the quality queue (task names start with "metrics.quality.").

Beat fans `grade_pending` out to every tenant each minute and `daily` once a
day (core.fan_out_to_tenants); both run in the tenant's schema and are safe to
run twice.
"""

from __future__ import annotations

from celery import shared_task

from core.db import tenant_connection
from metrics.quality.calibration import agreement_check, calibration_week_draw
from metrics.quality.drift import drift_check
from metrics.quality.grading import grade_run, grades_enqueue, grades_run_pending
from metrics.quality.sampling import sampling_rates_refresh


def _slug() -> str:
    return str(tenant_connection().schema_name)


@shared_task(name="metrics.quality.grade_pending", time_limit=300, soft_time_limit=270)
def grade_pending() -> dict[str, int]:
    """Create grades for newly sampled events, then grade within the rate limit and cap."""
    slug = _slug()
    created = grades_enqueue(tenant_slug=slug)
    result = grades_run_pending(tenant_slug=slug, limit=200, time_budget_s=200)
    return {"created": created, "done": result.done, "failed": result.failed}


@shared_task(name="metrics.quality.grade_one", time_limit=300, soft_time_limit=270)
def grade_one(grade_id: int) -> str:
    grade = grade_run(tenant_slug=_slug(), grade_id=grade_id)
    return grade.status if grade else "not-pending"


@shared_task(name="metrics.quality.daily", time_limit=1800, soft_time_limit=1700)
def daily() -> dict[str, int]:
    """Drift checks, then sampling rates (at-risk series graded more), calibration, agreement."""
    slug = _slug()
    drift = drift_check(tenant_slug=slug)
    rates = sampling_rates_refresh(tenant_slug=slug, at_risk=drift.at_risk)
    drawn = calibration_week_draw(tenant_slug=slug)
    agreement = agreement_check(tenant_slug=slug)
    return {
        "rates_changed": rates,
        "calibration_items": drawn,
        "agreement_findings": agreement,
        "drift_opened": drift.opened,
        "drift_resolved": drift.resolved,
        "drift_at_risk": len(drift.at_risk),
    }
