"""Per-event quality and its daily aggregates: what the chart, the drift job and alerts read.

An event's quality is the mean of its answer-rubric scores (faithfulness,
answer relevance, correctness, refusal; context relevance grades retrieval and
is reported under RAG) from the best source it has: an LLM judge, else the
client's own scores (its evaluator or user feedback knows the product), else
the lexical offline graders.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from django.db.models import Q

from metrics.quality.drift_detector import DayStat
from metrics.quality.models import Grade, GradeStatus
from metrics.quality.rubrics import ANSWER_RUBRICS

_PRIORITY = {"openai": 0, "anthropic": 0, "client": 1, "offline": 2}
DIMENSIONS = ("content_category", "feature", "release")


@dataclass(frozen=True)
class EventQuality:
    event_id: int
    day: date
    feature: str
    content_category: str
    release: str
    quality: float


def event_qualities(
    *, since: date, until: date, feature: str = "", content_category: str = "", release: str = ""
) -> list[EventQuality]:
    """One quality per graded event with day in [since, until]."""
    qs = Grade.objects.filter(
        Q(rubric_name__in=ANSWER_RUBRICS) | Q(judge_kind="client"),
        status=GradeStatus.DONE,
        score__isnull=False,
        day__gte=since,
        day__lte=until,
    )
    if feature:
        qs = qs.filter(feature=feature)
    if content_category:
        qs = qs.filter(content_category=content_category)
    if release:
        qs = qs.filter(release=release)
    best: dict[int, tuple[int, list[float], tuple[date, str, str, str]]] = {}
    for row in qs.values_list(
        "event_id", "judge_kind", "score", "day", "feature", "content_category", "release"
    ).iterator(chunk_size=5000):
        event_id, kind, raw_score, day, feat, cat, rel = row
        score = float(raw_score or 0.0)
        rank = _PRIORITY.get(kind, 3)
        current = best.get(event_id)
        if current is None or rank < current[0]:
            best[event_id] = (rank, [score], (day, feat, cat, rel))
        elif rank == current[0]:
            current[1].append(score)
    return [
        EventQuality(eid, meta[0], meta[1], meta[2], meta[3], sum(scores) / len(scores))
        for eid, (_, scores, meta) in best.items()
    ]


def daily_stats(
    events: list[EventQuality], *, by: tuple[str, ...]
) -> dict[tuple[str, ...], dict[date, DayStat]]:
    """{key: {day: DayStat}} with key the values of the `by` dimensions."""
    acc: dict[tuple[str, ...], dict[date, list[float]]] = defaultdict(
        lambda: defaultdict(lambda: [0, 0.0, 0.0])
    )
    for e in events:
        key = tuple(getattr(e, dim) for dim in by)
        cell = acc[key][e.day]
        cell[0] += 1
        cell[1] += e.quality
        cell[2] += e.quality * e.quality
    return {
        key: {day: DayStat(day, int(v[0]), v[1], v[2]) for day, v in days.items()}
        for key, days in acc.items()
    }
