"""Drift detection: the detector on replayed traffic, and the daily job end to end."""

from __future__ import annotations

import random
import statistics
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from django.utils import timezone

from compliance.models import AuditEntry
from metrics.demo_traffic import event_build, events_insert
from metrics.models import Event
from metrics.quality import tasks
from metrics.quality.drift import deployment_record, drift_check
from metrics.quality.drift_detector import (
    DayStat,
    DriftParams,
    DriftResult,
    arl0_siegmund,
    drift_evaluate,
    threshold_for,
)
from metrics.quality.models import Grade, GradeStatus, QualityFinding, SamplingPolicy
from metrics.quality.sampling import sampling_policy_set, sampling_rate_for
from metrics.quality.sampling_rates import (
    AT_RISK_FACTOR,
    DEFAULT_WEEKLY_MINIMUM,
    category_rate,
)
from metrics.quality.selectors import quality_findings_active

START = date(2026, 1, 1)


def _simulate(days: int, per_day: int, quality, seed: int) -> dict[date, DayStat]:
    rng = random.Random(seed)
    series = {}
    for d in range(days):
        q = quality(d)
        passed = sum(1 for _ in range(per_day) if rng.random() < q)
        day = START + timedelta(days=d)
        series[day] = DayStat(day, per_day, float(passed), float(passed))
    return series


def test_threshold_meets_the_arl_target() -> None:
    h = threshold_for(k=0.5, target_arl0=10_000)
    assert arl0_siegmund(0.5, h) >= 10_000 > arl0_siegmund(0.5, h - 0.05)


def test_stable_quality_raises_no_alarm() -> None:
    series = _simulate(330, 500, lambda d: 0.94, seed=1)
    params = DriftParams(series=20)
    for d in range(150, 330, 3):
        result = drift_evaluate(series, today=START + timedelta(days=d), params=params)
        assert not result.alarm, d


def test_replayed_drift_is_detected_with_its_size_and_start() -> None:
    """A shorter version of the benchmark: 94% falling 3 points a month from day 150."""
    onset = 150
    series = _simulate(
        260, 500, lambda d: 0.94 - (0.03 * (d - onset) / 30.44 if d >= onset else 0), seed=7
    )
    params = DriftParams(series=20)
    detected = None
    for d in range(onset, 260):
        result = drift_evaluate(series, today=START + timedelta(days=d), params=params)
        if result.alarm:
            detected = (d, result)
            break
    assert detected is not None, "the drift was never flagged"
    day, result = detected
    assert day - onset <= 30
    assert result.started_on is not None
    assert abs((result.started_on - (START + timedelta(days=onset))).days) <= 14
    true_now = 3.0 * (day - onset) / 30.44
    assert -2 * true_now < result.delta_points < 0
    assert result.ci_low < result.delta_points < result.ci_high < 0


@dataclass
class Replay:
    """A category replayed day by day as the product runs it (see benchmarks/drift.py)."""

    alarm_day: int | None = None
    result: DriftResult | None = None
    first_at_risk: int | None = None
    grades_by_day: list[int] = field(default_factory=list)


def _replay_sampled(
    *, days: int, requests_per_day: int, quality, seed: int, watch_from: int, params: DriftParams
) -> Replay:
    """Each day: the rate from last week's volume and yesterday's verdict, pass/fail grades
    drawn at that rate, then the detector. Stops at the first alarm."""
    rng = np.random.default_rng(seed)
    series: dict[date, DayStat] = {}
    week: deque[int] = deque(maxlen=7)
    at_risk = False
    out = Replay()
    for d in range(days):
        rate = category_rate(
            base_rate=0.005,
            weekly_volume=sum(week),
            weekly_minimum=DEFAULT_WEEKLY_MINIMUM,
            at_risk=at_risk,
        )
        week.append(requests_per_day)
        n = int(rng.binomial(requests_per_day, rate))
        passed = float(rng.binomial(n, quality(d)))
        day = START + timedelta(days=d)
        series[day] = DayStat(day, n, passed, passed)
        out.grades_by_day.append(n)
        if d < watch_from:
            continue
        result = drift_evaluate(series, today=day, params=params)
        at_risk = result.at_risk
        if at_risk and out.first_at_risk is None:
            out.first_at_risk = d
        if result.alarm:
            out.alarm_day, out.result = d, result
            return out
    return out


def test_binary_field_guide_drift_is_flagged_within_30_days_with_adaptive_sampling() -> None:
    """The field guide's case, shortened: pass/fail labels at 0.5% of 100,000 requests a day,
    94% falling 1.2 points a month from day 150. Replayed over seven seeds, the median
    detection is within 30 days; each alarm follows a raise of the category's sampling."""
    onset = 150

    def quality(d: int) -> float:
        return 0.94 - (0.012 * (d - onset) / 30.44 if d >= onset else 0)

    delays = []
    for seed in range(7):
        replay = _replay_sampled(
            days=onset + 90,
            requests_per_day=100_000,
            quality=quality,
            seed=seed,
            watch_from=onset,
            params=DriftParams(series=20),
        )
        assert replay.alarm_day is not None and replay.result is not None, seed
        assert replay.first_at_risk is not None and replay.first_at_risk < replay.alarm_day
        # Graded at the policy rate before, four times more once at risk.
        assert max(replay.grades_by_day[:onset]) < 700
        assert max(replay.grades_by_day[replay.first_at_risk + 1 :]) > 1500
        result = replay.result
        assert result.ci_low < result.delta_points < result.ci_high < 0
        true_now = 1.2 * (replay.alarm_day - onset) / 30.44
        assert -3 * true_now < result.delta_points < 0
        delays.append(replay.alarm_day - onset)
    assert statistics.median(delays) <= 30, delays


def test_stable_binary_traffic_raises_no_alarm_with_adaptive_sampling() -> None:
    """A year of stable pass/fail traffic per series (three series, the busy and the small
    end of a tenant's categories): no alarm, even when a series is briefly at risk and
    graded more."""
    for seed, requests in ((11, 100_000), (12, 20_000), (13, 5_000)):
        replay = _replay_sampled(
            days=150 + 365,
            requests_per_day=requests,
            quality=lambda d: 0.94,
            seed=seed,
            watch_from=150,
            params=DriftParams(series=20),
        )
        assert replay.alarm_day is None, (seed, replay.alarm_day)


def _grade_history(
    *, category: str, days: int, per_day: int, quality, today: date, seed: int
) -> None:
    rng = random.Random(seed)
    events, plan = [], []
    for back in range(days, -1, -1):
        day = today - timedelta(days=back)
        q = quality(days - back)
        ts = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
        for i in range(per_day):
            eid = f"drift-{category}-{day.isoformat()}-{i}"
            events.append(event_build(event_id=eid, timestamp=ts, content_category=category))
            plan.append((eid, day, 1.0 if rng.random() < q else 0.0))
    events_insert(events)
    ids = dict(Event.objects.filter(content_category=category).values_list("event_id", "pk"))
    Grade.objects.bulk_create(
        [
            Grade(
                event_id=ids[eid],
                rubric_name="client:pass",
                judge_kind="client",
                judge_name="client",
                day=day,
                feature="chat",
                content_category=category,
                status=GradeStatus.DONE,
                score=score,
            )
            for eid, day, score in plan
        ],
        batch_size=5000,
    )


def _billing_drifts_while_stable_holds(today: date) -> None:
    """90 days of chat grades: "billing" 94% falling 8 points a month over its last 30
    days (a 31-day baseline, then the decline), "stable" at 94% throughout."""
    onset = 60
    _grade_history(
        category="billing", days=90, per_day=80, today=today, seed=3,
        quality=lambda d: 0.94 - (0.08 * (d - onset) / 30.44 if d >= onset else 0),
    )  # fmt: skip
    _grade_history(
        category="stable", days=90, per_day=30, today=today, seed=4, quality=lambda d: 0.94
    )


def test_daily_job_opens_updates_and_reports_findings(in_alpha) -> None:
    today = date(2026, 6, 30)
    _billing_drifts_while_stable_holds(today)
    result = drift_check(tenant_slug="alpha", today=today)
    assert result.series == 2 and result.opened == 1

    findings = quality_findings_active()
    assert len(findings) == 1
    f = findings[0]
    assert (f.kind, f.feature, f.category) == ("drift", "chat", "billing")
    assert f.delta_points < -1 and f.ci_high < 0 and f.ci_low < f.delta_points
    assert f.started_on is not None
    assert today - timedelta(days=40) <= f.started_on <= today
    assert AuditEntry.objects.filter(
        chain="alpha", action="quality.finding_opened", object_id=str(f.id)
    ).exists()

    # Running again the same day updates the open finding instead of duplicating it.
    again = drift_check(tenant_slug="alpha", today=today)
    assert (again.opened, again.updated) == (0, 1)
    assert QualityFinding.objects.filter(active=True).count() == 1


def test_daily_task_grades_an_at_risk_series_more(in_alpha) -> None:
    """The product path of adaptive sampling: drift job verdict -> tomorrow's category rate."""
    today = timezone.now().date()
    sampling_policy_set(tenant_slug="alpha", rate=0.005, category_weekly_minimum=0)
    _billing_drifts_while_stable_holds(today)
    summary = tasks.daily.apply().get()
    assert (summary["drift_opened"], summary["drift_at_risk"]) == (1, 1)
    assert SamplingPolicy.objects.get(feature="").category_rates == {
        "billing": pytest.approx(0.005 * AT_RISK_FACTOR)
    }
    assert sampling_rate_for(feature="chat", content_category="billing") == pytest.approx(0.02)
    assert sampling_rate_for(feature="chat", content_category="stable") == pytest.approx(0.005)
    entry = AuditEntry.objects.get(chain="alpha", action="quality.sampling_rates_refreshed")
    assert entry.after["at_risk"] == ["billing"]


def test_deployment_watch_uses_the_pre_release_baseline(in_alpha) -> None:
    today = date(2026, 6, 30)
    release_day = 75  # of 90: the release made things worse at once
    _grade_history(
        category="support", days=90, per_day=80, today=today, seed=5,
        quality=lambda d: 0.94 if d < release_day else 0.88,
    )  # fmt: skip
    released = today - timedelta(days=90 - release_day)
    dep = deployment_record(
        tenant_slug="alpha",
        release="prompt-v7",
        feature="chat",
        deployed_at=datetime(released.year, released.month, released.day, tzinfo=UTC),
    )
    drift_check(tenant_slug="alpha", today=today)
    watch = QualityFinding.objects.get(subject=f"deployment:{dep.pk}", active=True)
    assert watch.method == "cusum-deployment-watch"
    assert watch.started_on == released
    assert watch.delta_points == pytest.approx(-6, abs=3)
    assert [f.release for f in quality_findings_active() if f.id == watch.pk] == ["prompt-v7"]
