"""Quality layer: average score over time per content category (client-supplied scores).

An event's quality is the mean of the numeric `value`s of its `scores`; a
rollup keeps their sum and count, so any window averages exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

from metrics.selectors._query import Series, change, ratio, sums, sums_by, sums_by_time
from metrics.selectors.filters import MetricsFilter

_FIELDS = ("requests", "quality_sum", "quality_count")


@dataclass(frozen=True)
class QualityStats:
    key: str
    scored: int
    average: float | None
    previous_average: float | None
    change: float | None  # relative change from the previous period


@dataclass(frozen=True)
class QualitySummary:
    current: QualityStats
    requests: int
    scored_share: float | None


def quality_summary(f: MetricsFilter) -> QualitySummary:
    now = sums(f, _FIELDS)
    before = sums(f.previous(), _FIELDS)
    average = ratio(now["quality_sum"], now["quality_count"])
    previous = ratio(before["quality_sum"], before["quality_count"])
    return QualitySummary(
        current=QualityStats(
            key="",
            scored=now["quality_count"],
            average=average,
            previous_average=previous,
            change=change(average, previous),
        ),
        requests=now["requests"],
        scored_share=ratio(now["quality_count"], now["requests"]),
    )


def quality_breakdown(f: MetricsFilter, *, by: str = "content_category") -> list[QualityStats]:
    """Average score per content category (or feature, model...), worst first."""
    before = {r["key"]: r for r in sums_by(f.previous(), by, _FIELDS)}
    rows = []
    for r in sums_by(f, by, _FIELDS):
        if not r["quality_count"]:
            continue
        average = ratio(r["quality_sum"], r["quality_count"])
        prev = before.get(r["key"])
        previous = ratio(prev["quality_sum"], prev["quality_count"]) if prev else None
        rows.append(
            QualityStats(
                key=r["key"],
                scored=r["quality_count"],
                average=average,
                previous_average=previous,
                change=change(average, previous),
            )
        )
    rows.sort(key=lambda s: (s.average if s.average is not None else 2.0, s.key))
    return rows


def quality_series(f: MetricsFilter, *, by: str | None = "content_category") -> Series:
    """Average score per bucket: one line per content category (or one line without `by`)."""
    buckets = f.bucket_starts()
    data = sums_by_time(f, ("quality_sum", "quality_count"), by=by)
    per_key: dict[str, dict] = {}
    for (t, key), v in data.items():
        if v["quality_count"]:
            per_key.setdefault(key, {})[t] = ratio(v["quality_sum"], v["quality_count"])
    series = Series(buckets=buckets, bucket=f.bucket)
    for key in sorted(per_key):
        series.lines[key or ("quality" if by is None else "(none)")] = [
            per_key[key].get(b) for b in buckets
        ]
    return series
