"""Human calibration: the weekly review set, reviews, and judge-human agreement.

Each Monday's set holds up to `per_cell` done grades of the past week per
(rubric, content category), picked by a stable hash so re-running the draw
never changes it. Reviewers see question, context and answer, give their own
label (and score); the judge's grade is shown only after they answer.

Agreement per judge and rubric: Cohen's kappa on labels, and on scores the
mean absolute difference and the bias (judge minus human), each with a 95%
interval (stats.py). A judge whose kappa or difference crosses the tenant's
threshold over the last 4 weeks (with at least MIN_ITEMS reviews) gets a
`judge_agreement` finding, which alerts turns into an incident.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from compliance.services import audit_record
from core.exceptions import ApplicationError
from metrics.quality.findings import FindingKey, finding_raise, finding_resolve
from metrics.quality.judge_config import judge_config_get
from metrics.quality.models import (
    CalibrationItem,
    FindingKind,
    Grade,
    GradeStatus,
    ReviewStatus,
)
from metrics.quality.stats import bootstrap_ci, cohen_kappa, mean_ci
from metrics.sampling import sample_point

MIN_ITEMS = 20
AGREEMENT_WEEKS = 4


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def calibration_week_draw(*, tenant_slug: str, week: date | None = None, per_cell: int = 10) -> int:
    """Draw the week's calibration set (grades of the 7 days before `week`). Idempotent."""
    week = week_start(week or timezone.now().date())
    grades = list(
        Grade.objects.filter(
            status=GradeStatus.DONE,
            day__gte=week - timedelta(days=7),
            day__lt=week,
            reviews__isnull=True,
        )
        .exclude(judge_kind="client")
        .values_list("pk", "rubric_name", "content_category")
    )
    already = CalibrationItem.objects.filter(week=week).values_list(
        "grade__rubric_name", "grade__content_category"
    )
    have: dict[tuple[str, str], int] = defaultdict(int)
    for cell in already:
        have[cell] += 1
    cells: dict[tuple[str, str], list[int]] = defaultdict(list)
    for pk, rubric, category in grades:
        cells[(rubric, category)].append(pk)
    chosen: list[int] = []
    for cell, pks in sorted(cells.items()):
        pks.sort(key=lambda pk: sample_point(f"{week.isoformat()}:{pk}"))
        chosen += pks[: max(0, per_cell - have[cell])]
    if not chosen:
        return 0
    with transaction.atomic():
        CalibrationItem.objects.bulk_create(
            [CalibrationItem(grade_id=pk, week=week) for pk in chosen], ignore_conflicts=True
        )
        audit_record(
            tenant_slug=tenant_slug,
            action="quality.calibration_drawn",
            object_type="calibration_week",
            object_id=week.isoformat(),
            after={"items": len(chosen), "cells": len(cells)},
        )
    return len(chosen)


def label_score(labels: list[str], label: str) -> float:
    """A label's score: the best label 1.0, the worst 0.0, evenly between."""
    if label not in labels or len(labels) < 2:
        return 1.0 if labels and label == labels[0] else 0.0
    return 1.0 - labels.index(label) / (len(labels) - 1)


def review_submit(
    *,
    tenant_slug: str,
    item: CalibrationItem,
    reviewer_id: int,
    label: str,
    score: float | None = None,
    note: str = "",
) -> CalibrationItem:
    rubric = item.grade.rubric
    labels = list(rubric.labels) if rubric else []
    errors: dict[str, str] = {}
    if label not in labels:
        errors["label"] = "Choose one of the rubric's labels."
    if score is not None and not 0 <= score <= 1:
        errors["score"] = "Between 0 and 1."
    if len(note) > 2000:
        errors["note"] = "At most 2000 characters."
    if errors:
        raise ApplicationError("Invalid review.", details=errors)
    with transaction.atomic():
        locked = CalibrationItem.objects.select_for_update().get(pk=item.pk)
        if locked.status != ReviewStatus.OPEN:
            raise ApplicationError(
                "This item was already reviewed.", details={"form": "Already reviewed."}
            )
        locked.status = ReviewStatus.DONE
        locked.reviewer_id = reviewer_id
        locked.human_label = label
        locked.human_score = score if score is not None else label_score(labels, label)
        locked.note = note
        locked.reviewed_at = timezone.now()
        locked.save(
            update_fields=[
                "status",
                "reviewer_id",
                "human_label",
                "human_score",
                "note",
                "reviewed_at",
            ]
        )
        audit_record(
            tenant_slug=tenant_slug,
            action="quality.review_submitted",
            object_type="calibration_item",
            object_id=locked.pk,
            before={"status": ReviewStatus.OPEN},
            after={"status": ReviewStatus.DONE, "label": label, "score": locked.human_score},
        )
    return locked


@dataclass(frozen=True)
class Agreement:
    judge: str
    rubric: str
    period: str  # "all" or the week's Monday
    n: int
    kappa: float | None
    kappa_ci: tuple[float, float] | None
    mad: float | None
    mad_ci: tuple[float, float] | None
    bias: float | None
    bias_ci: tuple[float, float] | None
    exact: float | None  # share of identical labels


def _agreement(
    judge: str, rubric: str, period: str, rows: list[tuple[str, str, float, float]]
) -> Agreement:
    judge_labels = [r[0] for r in rows]
    human_labels = [r[1] for r in rows]
    diffs = [r[2] - r[3] for r in rows]
    n = len(rows)

    def kappa_of(idx: list[int]) -> float | None:
        return cohen_kappa([judge_labels[i] for i in idx], [human_labels[i] for i in idx])

    def mad_of(idx: list[int]) -> float:
        return sum(abs(diffs[i]) for i in idx) / len(idx)

    bias = mean_ci(diffs)
    return Agreement(
        judge=judge,
        rubric=rubric,
        period=period,
        n=n,
        kappa=cohen_kappa(judge_labels, human_labels),
        kappa_ci=bootstrap_ci(n, kappa_of) if n >= 5 else None,
        mad=sum(abs(d) for d in diffs) / n if n else None,
        mad_ci=bootstrap_ci(n, mad_of) if n >= 5 else None,
        bias=bias[0] if bias else None,
        bias_ci=(bias[1], bias[2]) if bias and n >= 2 else None,
        exact=sum(1 for a, b in zip(judge_labels, human_labels, strict=True) if a == b) / n
        if n
        else None,
    )


def agreement_stats(*, since: date | None = None, weekly: bool = True) -> list[Agreement]:
    """Agreement per (judge, rubric): overall since `since`, and per week when `weekly`."""
    qs = CalibrationItem.objects.filter(status=ReviewStatus.DONE).select_related("grade")
    if since:
        qs = qs.filter(week__gte=since)
    groups: dict[tuple[str, str, str], list[tuple[str, str, float, float]]] = defaultdict(list)
    for item in qs.order_by("week", "pk"):
        g = item.grade
        if g.score is None or item.human_score is None:
            continue
        row = (g.label, item.human_label, g.score, item.human_score)
        groups[(g.judge_name, g.rubric_name, "all")].append(row)
        if weekly:
            groups[(g.judge_name, g.rubric_name, item.week.isoformat())].append(row)
    return [_agreement(j, r, p, rows) for (j, r, p), rows in sorted(groups.items())]


def agreement_check(*, tenant_slug: str, now: datetime | None = None) -> int:
    """Open or resolve judge_agreement findings from the last 4 weeks. Returns open count."""
    now = now or timezone.now()
    config = judge_config_get()
    since = week_start(now.date()) - timedelta(weeks=AGREEMENT_WEEKS)
    stats = [a for a in agreement_stats(since=since, weekly=False) if a.n >= MIN_ITEMS]
    open_count = 0
    with transaction.atomic():
        for a in stats:
            subject = f"{a.judge}/{a.rubric}"
            low_kappa = a.kappa is not None and a.kappa < config.agreement_kappa_min
            high_mad = a.mad is not None and a.mad > config.agreement_mad_max
            key = FindingKey(FindingKind.JUDGE_AGREEMENT, subject=subject)
            values: dict[str, Any] = {
                "delta_points": round(100 * (a.bias or 0.0), 3),
                "ci_low": round(100 * (a.bias_ci[0] if a.bias_ci else 0.0), 3),
                "ci_high": round(100 * (a.bias_ci[1] if a.bias_ci else 0.0), 3),
                "method": "kappa+mad-4w",
                "details": {
                    "n": a.n,
                    "kappa": a.kappa,
                    "kappa_ci": a.kappa_ci,
                    "mad": a.mad,
                    "mad_ci": a.mad_ci,
                    "kappa_min": config.agreement_kappa_min,
                    "mad_max": config.agreement_mad_max,
                },
            }
            if low_kappa or high_mad:
                open_count += 1
                finding_raise(
                    tenant_slug=tenant_slug,
                    key=key,
                    values=values,
                    now=now,
                    on_open={"started_on": since},
                )
            else:
                finding_resolve(
                    tenant_slug=tenant_slug,
                    key=key,
                    now=now,
                    evidence={"kappa": a.kappa, "mad": a.mad},
                )
    return open_count
