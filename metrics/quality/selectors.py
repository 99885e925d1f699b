"""Reads of the quality layer for pages, the API and other apps (alerts)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, QuerySet
from django.http import Http404
from django.utils import timezone

from metrics.models import Event
from metrics.quality.grading import judge_spend_month
from metrics.quality.models import (
    CalibrationItem,
    Deployment,
    FindingKind,
    Grade,
    GradeStatus,
    QualityFinding,
    ReviewStatus,
)
from metrics.quality.rubrics import CONTEXT_RELEVANCE, FAITHFULNESS
from metrics.quality.series import DIMENSIONS, daily_stats, event_qualities
from metrics.quality.stats import wilson


@dataclass(frozen=True)
class QualityFindingView:
    """What alerts reads: one active quality finding."""

    id: int
    kind: str  # "drift" | "judge_agreement"
    feature: str
    category: str
    subject: str
    delta_points: float
    ci_low: float
    ci_high: float
    confidence: float
    baseline: float | None
    current: float | None
    started_on: date | None
    detected_at: datetime
    method: str
    release: str


def quality_findings_active(*, kind: str | None = None) -> list[QualityFindingView]:
    """Active findings of the current tenant schema, newest first."""
    qs = QualityFinding.objects.filter(active=True).select_related("deployment")
    if kind:
        qs = qs.filter(kind=kind)
    return [
        QualityFindingView(
            id=f.pk,
            kind=f.kind,
            feature=f.feature,
            category=f.content_category,
            subject=f.subject,
            delta_points=f.delta_points,
            ci_low=f.ci_low,
            ci_high=f.ci_high,
            confidence=f.confidence,
            baseline=f.baseline,
            current=f.current,
            started_on=f.started_on,
            detected_at=f.detected_at,
            method=f.method,
            release=f.deployment.release if f.deployment else "",
        )
        for f in qs.order_by("-detected_at", "-pk")
    ]


def quality_findings_recent(*, limit: int = 50) -> QuerySet[QualityFinding]:
    return QualityFinding.objects.select_related("deployment").order_by("-detected_at", "-pk")[
        :limit
    ]


@dataclass(frozen=True)
class QualityLine:
    key: str
    points: list[tuple[date, int, float, float, float]]  # day, n, mean, low, high
    graded: int
    mean: float | None


def quality_daily(
    *,
    days: int = 30,
    by: str = "content_category",
    today: date | None = None,
    filters: dict[str, str] | None = None,
) -> tuple[list[date], list[QualityLine]]:
    """Daily quality per value of `by` with Wilson 95% intervals (n = graded events)."""
    if by not in DIMENSIONS:
        by = "content_category"
    today = today or timezone.now().date()
    since = today - timedelta(days=days - 1)
    clean = {k: v for k, v in (filters or {}).items() if k in DIMENSIONS and v}
    stats = daily_stats(event_qualities(since=since, until=today, **clean), by=(by,))
    axis = [since + timedelta(days=i) for i in range(days)]
    lines = []
    for (key,), per_day in sorted(stats.items()):
        points = []
        for day in axis:
            s = per_day.get(day)
            if s is None or s.n == 0:
                continue
            low, high = wilson(s.mean, s.n)
            points.append((day, s.n, s.mean, low, high))
        n = sum(p[1] for p in points)
        mean = sum(p[1] * p[2] for p in points) / n if n else None
        lines.append(QualityLine(key or "(none)", points, n, mean))
    return axis, lines


def chart_payload(
    axis: list[date], lines: list[QualityLine], deployments: list[Deployment]
) -> dict:
    """The JSON static/js/quality.js draws: x in unix seconds, y in percent."""
    xs = [int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp()) for d in axis]
    index = {d: i for i, d in enumerate(axis)}
    series = []
    for line in lines:
        mean: list[float | None] = [None] * len(axis)
        low: list[float | None] = [None] * len(axis)
        high: list[float | None] = [None] * len(axis)
        for day, _n, m, lo, hi in line.points:
            i = index[day]
            mean[i], low[i], high[i] = round(100 * m, 2), round(100 * lo, 2), round(100 * hi, 2)
        series.append({"label": line.key, "mean": mean, "low": low, "high": high})
    markers = [
        {
            "x": int(d.deployed_at.timestamp()),
            "label": d.release + (f" ({d.feature})" if d.feature else ""),
        }
        for d in deployments
    ]
    return {"x": xs, "series": series, "deployments": markers}


def deployments_list(*, since: datetime | None = None, limit: int = 200) -> list[Deployment]:
    qs = Deployment.objects.all()
    if since:
        qs = qs.filter(deployed_at__gte=since)
    return list(qs.order_by("-deployed_at", "-pk")[:limit])


@dataclass(frozen=True)
class RagRow:
    feature: str
    day: date
    events: int
    context_relevance: float | None
    faithfulness: float | None
    labelled: int
    hit_rate: float | None


def _is_hit(retrieval: Any, attributes: Any) -> bool | None:
    """True/False when relevance labels exist (chunk `relevant` flags, or
    attributes.relevant_chunk_ids), None when the event carries no labels."""
    chunks = retrieval if isinstance(retrieval, list) else []
    flags = [c.get("relevant") for c in chunks if isinstance(c, dict) and "relevant" in c]
    if flags:
        return any(f is True for f in flags)
    wanted = attributes.get("relevant_chunk_ids") if isinstance(attributes, dict) else None
    if isinstance(wanted, list) and wanted:
        ids = {str(c.get("id")) for c in chunks if isinstance(c, dict) and "id" in c}
        return bool(ids & {str(w) for w in wanted})
    return None


def rag_metrics(*, days: int = 30, today: date | None = None) -> list[RagRow]:
    """Per feature and day, over sampled events with retrieval context."""
    today = today or timezone.now().date()
    since = today - timedelta(days=days - 1)
    grades: dict[tuple[str, date, str], list[float]] = defaultdict(list)
    for feature, day, rubric, score in Grade.objects.filter(
        status=GradeStatus.DONE,
        rubric_name__in=(CONTEXT_RELEVANCE, FAITHFULNESS),
        day__gte=since,
        day__lte=today,
        score__isnull=False,
    ).values_list("feature", "day", "rubric_name", "score"):
        grades[(feature, day, rubric)].append(float(score or 0.0))
    counts: dict[tuple[str, date], list[int]] = defaultdict(lambda: [0, 0, 0])
    start = datetime(since.year, since.month, since.day, tzinfo=UTC)
    for feature, ts, retrieval, attributes in (
        Event.objects.filter(
            is_sampled=True, timestamp__gte=start, timestamp__lt=start + timedelta(days=days)
        )
        .exclude(retrieval=[])
        .values_list("feature", "timestamp", "retrieval", "attributes")
        .iterator(chunk_size=2000)
    ):
        cell = counts[(feature, ts.date())]
        cell[0] += 1
        hit = _is_hit(retrieval, attributes)
        if hit is not None:
            cell[1] += 1
            cell[2] += int(hit)

    def avg(values: list[float]) -> float | None:
        return sum(values) / len(values) if values else None

    keys = set(counts) | {(f, d) for f, d, _ in grades}
    return [
        RagRow(
            feature=f,
            day=d,
            events=counts[(f, d)][0] if (f, d) in counts else 0,
            context_relevance=avg(grades.get((f, d, CONTEXT_RELEVANCE), [])),
            faithfulness=avg(grades.get((f, d, FAITHFULNESS), [])),
            labelled=counts[(f, d)][1] if (f, d) in counts else 0,
            hit_rate=(counts[(f, d)][2] / counts[(f, d)][1])
            if (f, d) in counts and counts[(f, d)][1]
            else None,
        )
        for f, d in sorted(keys, key=lambda k: (k[0], k[1]))
    ]


def rag_summary(rows: list[RagRow]) -> list[dict[str, Any]]:
    """Per feature over the whole period (weighted by events / labelled events)."""
    acc: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for r in rows:
        a = acc[r.feature]
        a["events"] += r.events
        a["labelled"] += r.labelled
        if r.hit_rate is not None:
            a["hits"] += r.hit_rate * r.labelled
        for name in ("context_relevance", "faithfulness"):
            value = getattr(r, name)
            if value is not None:
                a[name + "_sum"] += value
                a[name + "_days"] += 1
    return [
        {
            "feature": f,
            "events": int(a["events"]),
            "context_relevance": a["context_relevance_sum"] / a["context_relevance_days"]
            if a["context_relevance_days"]
            else None,
            "faithfulness": a["faithfulness_sum"] / a["faithfulness_days"]
            if a["faithfulness_days"]
            else None,
            "labelled": int(a["labelled"]),
            "hit_rate": a["hits"] / a["labelled"] if a["labelled"] else None,
        }
        for f, a in sorted(acc.items())
    ]


def grading_summary() -> dict[str, Any]:
    by_status = dict(Grade.objects.values_list("status").annotate(n=Count("id")).order_by())
    return {
        "pending": by_status.get(GradeStatus.PENDING, 0),
        "done": by_status.get(GradeStatus.DONE, 0),
        "failed": by_status.get(GradeStatus.FAILED, 0),
        "skipped": by_status.get(GradeStatus.SKIPPED, 0),
        "spend_month": judge_spend_month(),
    }


def grades_failed(*, limit: int = 20) -> QuerySet[Grade]:
    return Grade.objects.filter(status=GradeStatus.FAILED).order_by("-graded_at", "-pk")[:limit]


def grade_get(*, grade_id: int) -> Grade:
    grade = Grade.objects.filter(pk=grade_id).first()
    if grade is None:
        raise Http404("No such grade.")
    return grade


def review_queue(*, limit: int = 100) -> list[CalibrationItem]:
    return list(
        CalibrationItem.objects.filter(status=ReviewStatus.OPEN)
        .select_related("grade", "grade__event")
        .order_by("week", "pk")[:limit]
    )


def review_counts() -> dict[str, int]:
    rows = dict(CalibrationItem.objects.values_list("status").annotate(n=Count("id")).order_by())
    return {"open": rows.get(ReviewStatus.OPEN, 0), "done": rows.get(ReviewStatus.DONE, 0)}


def review_item_get(*, item_id: int) -> CalibrationItem:
    """A calibration item of the current tenant schema (404 otherwise)."""
    item = (
        CalibrationItem.objects.select_related("grade", "grade__event", "grade__rubric")
        .filter(pk=item_id)
        .first()
    )
    if item is None:
        raise Http404("No such review item.")
    return item


def judge_spend(*, now: datetime | None = None) -> Decimal:
    return judge_spend_month(now)


FINDING_KINDS = FindingKind.values


def agreement_chart(weekly: list[Any]) -> dict[str, Any]:
    """Weekly kappa per judge/rubric with its bootstrap interval, in quality.js's format."""
    weeks = sorted({a.period for a in weekly})
    xs = [int(datetime.fromisoformat(w).replace(tzinfo=UTC).timestamp()) for w in weeks]
    index = {w: i for i, w in enumerate(weeks)}
    lines: dict[str, dict[str, list[float | None]]] = {}
    for a in weekly:
        key = f"{a.judge} / {a.rubric}"
        line = lines.setdefault(
            key,
            {"mean": [None] * len(weeks), "low": [None] * len(weeks), "high": [None] * len(weeks)},
        )
        i = index[a.period]
        line["mean"][i] = None if a.kappa is None else round(a.kappa, 3)
        if a.kappa_ci:
            line["low"][i], line["high"][i] = round(a.kappa_ci[0], 3), round(a.kappa_ci[1], 3)
    return {
        "x": xs,
        "series": [{"label": k, **v} for k, v in sorted(lines.items())],
        "deployments": [],
    }
