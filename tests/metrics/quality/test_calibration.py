"""Weekly calibration set, reviews, agreement statistics and the judge-agreement finding."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from compliance.models import AuditEntry
from core.exceptions import ApplicationError
from metrics.quality.calibration import (
    agreement_check,
    agreement_stats,
    calibration_week_draw,
    label_score,
    review_submit,
)
from metrics.quality.models import CalibrationItem, Grade, GradeStatus, QualityFinding
from metrics.quality.rubrics import rubrics_ensure
from metrics.quality.stats import bootstrap_ci, cohen_kappa, mean_ci, wilson

from .conftest import sampled_event

WEEK = date(2026, 11, 23)  # a Monday


def test_kappa_and_intervals_match_hand_computed_values() -> None:
    # 10 items: 7 agreements; rater a: 6 yes / 4 no; rater b: 5 yes / 5 no.
    a = ["y"] * 6 + ["n"] * 4
    b = ["y", "y", "y", "y", "n", "n", "n", "n", "n", "y"]
    observed = 0.7
    expected = (6 * 5 + 4 * 5) / 100
    assert cohen_kappa(a, b) == pytest.approx((observed - expected) / (1 - expected))
    assert cohen_kappa(["y"] * 3, ["y"] * 3) == 1.0
    assert cohen_kappa([], []) is None
    low, high = wilson(0.94, 500)
    assert low == pytest.approx(0.9157, abs=1e-3) and high == pytest.approx(0.9576, abs=1e-3)
    assert mean_ci([0.0, 1.0]) is not None
    ci = bootstrap_ci(50, lambda idx: sum(1 for i in idx if i < 25) / len(idx))
    assert ci is not None and ci[0] < 0.5 < ci[1]


def _graded(n: int, *, judge_label: str, score: float, category: str = "billing") -> list[Grade]:
    rubric = rubrics_ensure()["answer_relevance"]
    grades = []
    for i in range(n):
        event = sampled_event(
            content_category=category,
            timestamp=datetime(2026, 11, 18, 10, tzinfo=UTC) + timedelta(minutes=i),
        )
        grades.append(
            Grade.objects.create(
                event=event,
                rubric=rubric,
                rubric_name=rubric.name,
                rubric_version=rubric.version,
                judge_kind="openai",
                judge_name="openai:judge-x",
                day=event.timestamp.date(),
                feature=event.feature,
                content_category=category,
                status=GradeStatus.DONE,
                score=score,
                label=judge_label,
                rationale="because",
            )
        )
    return grades


def test_weekly_draw_is_per_rubric_and_category_and_idempotent(in_alpha) -> None:
    _graded(12, judge_label="relevant", score=1.0, category="billing")
    _graded(3, judge_label="relevant", score=1.0, category="legal")
    audits = AuditEntry.objects.filter(chain="alpha", action="quality.calibration_drawn")
    before = audits.count()
    assert calibration_week_draw(tenant_slug="alpha", week=WEEK, per_cell=10) == 13
    assert calibration_week_draw(tenant_slug="alpha", week=WEEK, per_cell=10) == 0
    cells = CalibrationItem.objects.values_list("grade__content_category", flat=True)
    assert sorted(set(cells)) == ["billing", "legal"]
    assert audits.count() == before + 1


def test_review_submit_validates_and_is_single_use(in_alpha) -> None:
    _graded(1, judge_label="relevant", score=1.0)
    calibration_week_draw(tenant_slug="alpha", week=WEEK)
    item = CalibrationItem.objects.get()
    with pytest.raises(ApplicationError) as exc:
        review_submit(tenant_slug="alpha", item=item, reviewer_id=1, label="great", score=3)
    assert set(exc.value.details) == {"label", "score"}
    done = review_submit(tenant_slug="alpha", item=item, reviewer_id=1, label="partially_relevant")
    assert done.human_score == 0.5 == label_score(["a", "b", "c"], "b")
    with pytest.raises(ApplicationError):
        review_submit(tenant_slug="alpha", item=item, reviewer_id=1, label="relevant")


def test_disagreeing_judge_raises_a_finding_and_agreeing_one_does_not(in_alpha) -> None:
    grades = _graded(24, judge_label="relevant", score=1.0)
    calibration_week_draw(tenant_slug="alpha", week=WEEK, per_cell=30)
    items = list(CalibrationItem.objects.order_by("pk"))
    assert len(items) == 24
    # Humans think half of the "relevant" answers are irrelevant.
    for i, item in enumerate(items):
        label = "relevant" if i % 2 else "irrelevant"
        review_submit(tenant_slug="alpha", item=item, reviewer_id=7, label=label)
    stats = [a for a in agreement_stats(since=WEEK) if a.period == "all"]
    assert len(stats) == 1
    a = stats[0]
    assert a.n == 24 and a.kappa == pytest.approx(0.0)
    assert a.mad == pytest.approx(0.5) and a.bias == pytest.approx(0.5)
    assert a.bias_ci is not None and a.bias_ci[0] < 0.5 < a.bias_ci[1]
    assert agreement_check(tenant_slug="alpha", now=datetime(2026, 11, 26, tzinfo=UTC)) == 1
    finding = QualityFinding.objects.get(kind="judge_agreement", active=True)
    assert finding.subject == "openai:judge-x/answer_relevance"
    assert finding.delta_points == pytest.approx(50.0)
    assert len(grades) == 24
