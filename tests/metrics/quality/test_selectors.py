"""Quality selectors against hand-computed values from the raw grades and events."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from metrics.quality.models import Grade, GradeStatus
from metrics.quality.selectors import quality_daily, rag_metrics, rag_summary
from metrics.quality.stats import wilson

from .conftest import sampled_event

DAY = date(2026, 11, 20)


def _grade(event, rubric: str, kind: str, score: float) -> None:
    Grade.objects.create(
        event=event, rubric_name=rubric, judge_kind=kind, judge_name=kind, day=event.timestamp.date(),
        feature=event.feature, content_category=event.content_category, release=event.release,
        status=GradeStatus.DONE, score=score,
    )  # fmt: skip


def test_daily_quality_prefers_the_llm_judge_and_matches_wilson(in_alpha) -> None:
    ts = datetime(2026, 11, 20, 12, tzinfo=UTC)
    a = sampled_event(timestamp=ts, content_category="sel-cat", release="v1")
    b = sampled_event(timestamp=ts, content_category="sel-cat", release="v2")
    c = sampled_event(timestamp=ts, content_category="sel-other", release="v1")
    # a: LLM judge (0.8, 0.6) wins over offline 0.0; b: offline only; c: client only.
    _grade(a, "answer_relevance", "openai", 0.8)
    _grade(a, "faithfulness", "openai", 0.6)
    _grade(a, "answer_relevance", "offline", 0.0)
    _grade(a, "context_relevance", "openai", 0.1)  # retrieval metric, not answer quality
    _grade(b, "answer_relevance", "offline", 0.4)
    _grade(c, "client:thumbs", "client", 1.0)
    _grade(c, "answer_relevance", "anthropic", 0.5)  # the judge beats the client score
    d = sampled_event(timestamp=ts, content_category="sel-client")
    _grade(d, "client:thumbs", "client", 0.25)  # the client's score beats the offline grader
    _grade(d, "answer_relevance", "offline", 1.0)
    axis, lines = quality_daily(days=3, today=DAY)
    assert axis == [date(2026, 11, 18), date(2026, 11, 19), DAY]
    by_key = {line.key: line for line in lines}
    cat = by_key["sel-cat"]
    assert cat.graded == 2
    day, n, mean, low, high = cat.points[0]
    assert (day, n) == (DAY, 2)
    assert mean == pytest.approx((0.7 + 0.4) / 2)
    assert (low, high) == pytest.approx(wilson(0.55, 2))
    assert by_key["sel-other"].points[0][2] == pytest.approx(0.5)
    assert by_key["sel-client"].points[0][2] == pytest.approx(0.25)
    _, by_release = quality_daily(days=3, today=DAY, by="release", filters={"release": "v1"})
    assert [(line.key, line.graded) for line in by_release] == [("v1", 2)]
    assert by_release[0].mean == pytest.approx((0.7 + 0.5) / 2)


def test_rag_metrics_per_feature(in_alpha) -> None:
    ts = datetime(2026, 11, 20, 12, tzinfo=UTC)
    hit = sampled_event(
        timestamp=ts, feature="rag-sel",
        retrieval=[{"id": "1", "text": "x", "relevant": False}, {"id": "2", "text": "y", "relevant": True}],
    )  # fmt: skip
    miss = sampled_event(
        timestamp=ts, feature="rag-sel",
        retrieval=[{"id": "7", "text": "z"}], attributes={"relevant_chunk_ids": ["9"]},
    )  # fmt: skip
    sampled_event(timestamp=ts, feature="rag-sel", retrieval=[{"id": "3", "text": "unlabelled"}])
    _grade(hit, "context_relevance", "offline", 0.9)
    _grade(miss, "context_relevance", "offline", 0.3)
    _grade(hit, "faithfulness", "offline", 1.0)
    rows = [r for r in rag_metrics(days=3, today=DAY) if r.feature == "rag-sel"]
    assert len(rows) == 1
    row = rows[0]
    assert (row.events, row.labelled, row.hit_rate) == (3, 2, 0.5)
    assert row.context_relevance == pytest.approx(0.6)
    assert row.faithfulness == pytest.approx(1.0)
    summary = next(s for s in rag_summary(rows) if s["feature"] == "rag-sel")
    assert summary["hit_rate"] == 0.5 and summary["labelled"] == 2
