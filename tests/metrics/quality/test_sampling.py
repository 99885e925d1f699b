"""Sampling policies: deterministic, stratified by category, flagged events always in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from compliance.models import AuditEntry
from core.exceptions import ApplicationError
from metrics.demo_traffic import event_build, events_insert
from metrics.ingest.pipeline import ingest_events
from metrics.models import Event
from metrics.quality.models import SamplingPolicy
from metrics.quality.sampling import (
    sampling_decide,
    sampling_policy_set,
    sampling_rate_for,
    sampling_rates_refresh,
)
from metrics.sampling import sample_point


def test_decision_is_deterministic_and_matches_the_rate(in_alpha) -> None:
    ids = [f"evt-{i}" for i in range(20_000)]
    first = [sampling_decide(event_id=i, feature="chat") for i in ids]
    second = [sampling_decide(event_id=i, feature="chat") for i in ids]
    assert first == second
    share = sum(first) / len(ids)
    assert 0.003 < share < 0.007  # default 0.5%
    assert all(d == (sample_point(i) < 0.005) for i, d in zip(ids, first, strict=True))


def test_flagged_events_are_always_sampled_unless_the_policy_says_no(in_alpha) -> None:
    assert sampling_decide(event_id="x-never", feature="chat", flagged=True)
    sampling_policy_set(
        tenant_slug="alpha",
        feature="chat",
        rate=0.0,
        category_weekly_minimum=0,
        include_flagged=False,
    )
    assert not sampling_decide(event_id="x-never", feature="chat", flagged=True)
    assert not sampling_decide(event_id="x-never", feature="vigil-judge", flagged=True)


def test_policy_per_feature_and_audit(in_alpha) -> None:
    sampling_policy_set(tenant_slug="alpha", feature="search", rate=1.0, category_weekly_minimum=5)
    assert sampling_decide(event_id="anything", feature="search")
    assert sampling_rate_for(feature="chat", content_category="") == pytest.approx(0.005)
    assert AuditEntry.objects.filter(
        chain="alpha", action="quality.sampling_policy_set", object_id="search"
    ).exists()
    with pytest.raises(ApplicationError) as exc:
        sampling_policy_set(tenant_slug="alpha", rate=2, category_weekly_minimum=-1)
    assert set(exc.value.details) == {"rate", "category_weekly_minimum"}


def test_small_categories_get_a_boosted_rate(in_alpha) -> None:
    now = datetime.now(tz=UTC)
    events = [
        event_build(
            feature="chat", content_category="big", timestamp=now - timedelta(hours=i % 100)
        )
        for i in range(2000)
    ] + [
        event_build(feature="chat", content_category="small", timestamp=now - timedelta(hours=i))
        for i in range(100)
    ]
    events_insert(events)
    changed = sampling_rates_refresh(tenant_slug="alpha", now=now + timedelta(seconds=1))
    assert changed == 1
    rates = SamplingPolicy.objects.get(feature="").category_rates
    # 100 events/week, 50 wanted: 0.5 (the cap); "big": 2000 x 0.005 = 10 < 50, so 50/2000.
    assert rates["small"] == 0.5
    assert rates["big"] == pytest.approx(0.025)
    assert sampling_rate_for(feature="chat", content_category="small") == 0.5
    assert sampling_rate_for(feature="chat", content_category="other") == pytest.approx(0.005)
    # Running again changes nothing.
    assert sampling_rates_refresh(tenant_slug="alpha", now=now + timedelta(seconds=1)) == 0


def test_ingestion_uses_the_quality_policies(in_alpha) -> None:
    sampling_policy_set(tenant_slug="alpha", feature="rag", rate=1.0, category_weekly_minimum=0)
    now = datetime.now(tz=UTC).isoformat()
    outcomes = ingest_events(
        tenant=in_alpha,
        raw_events=[
            {"event_id": "ing-q-1", "timestamp": now, "feature": "rag", "model": "gpt-4o-mini",
             "input": "q", "output": "a"},
            {"event_id": "ing-q-2", "timestamp": now, "feature": "chat", "model": "gpt-4o-mini",
             "input": "q", "output": "a", "attributes": {"review": True}},
            {"event_id": "ing-q-3", "timestamp": now, "feature": "chat", "model": "gpt-4o-mini",
             "input": "q", "output": "a"},
        ],
    )  # fmt: skip
    assert [o.status for o in outcomes] == ["accepted"] * 3
    sampled = dict(Event.objects.values_list("event_id", "is_sampled"))
    assert sampled["ing-q-1"] is True  # the feature's policy samples all
    assert sampled["ing-q-2"] is True  # flagged for review
    assert sampled["ing-q-3"] is (sample_point("ing-q-3") < 0.005)
    assert Event.objects.get(event_id="ing-q-2").output == "a"  # content kept for grading
