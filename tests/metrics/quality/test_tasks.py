"""Celery entry points: names on the quality queue, beat fan-out, and a full daily run."""

from __future__ import annotations

from fnmatch import fnmatch

from django.conf import settings

from core.celery import app
from metrics.quality import tasks
from metrics.quality.models import Grade, GradeStatus

from .conftest import sampled_event


def test_tasks_are_registered_routed_and_scheduled() -> None:
    names = {"metrics.quality.grade_pending", "metrics.quality.daily", "metrics.quality.grade_one"}
    assert names <= set(app.tasks.keys())
    for name in names:
        queues = [r["queue"] for p, r in settings.CELERY_TASK_ROUTES.items() if fnmatch(name, p)]
        assert queues == ["quality"]
    fanned: set[tuple[str, ...]] = {
        tuple(e.get("args", ()))  # type: ignore[arg-type]
        for e in settings.CELERY_BEAT_SCHEDULE.values()
        if e["task"] == "core.fan_out_to_tenants"
    }
    assert ("metrics.quality.grade_pending",) in fanned and ("metrics.quality.daily",) in fanned


def test_grade_pending_and_daily_run_in_the_tenant_schema(in_alpha) -> None:
    sampled_event()
    result = tasks.grade_pending.apply().get()
    assert result["created"] == 1 and result["done"] == 1
    assert Grade.objects.get().status == GradeStatus.DONE
    daily = tasks.daily.apply().get()
    assert set(daily) == {
        "rates_changed",
        "calibration_items",
        "agreement_findings",
        "drift_opened",
        "drift_resolved",
        "drift_at_risk",
    }
