"""Which events are graded: per-feature policies, stratified by content category.

The decision is a pure function of the event id and the policy's rates, so the
same event is in or out whichever worker sees it and however often ingestion is
retried (the hash is metrics.sampling.sample_point, the one ingestion uses for
content storage). Once a day `sampling_rates_refresh` raises two kinds of
category rates (the rule, shared with the drift benchmark, is in
sampling_rates.py): a small category's, so that last week's volume would have
yielded `category_weekly_minimum` samples (stratification), and an at-risk
category's, whose drift statistic is climbing (adaptive sampling). Events
flagged by the client for review (`attributes.review` true) are always sampled.

Ingestion calls `sampling_decide(...)`; policy lookups are cached in-process
for a minute so the hot path does not query the database per event.
"""

from __future__ import annotations

import time
from collections.abc import Collection
from datetime import timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from compliance.services import audit_record
from core.exceptions import ApplicationError
from core.services import model_update
from metrics.models import Event
from metrics.quality.models import DEFAULT_SAMPLE_RATE, JUDGE_FEATURE, SamplingPolicy
from metrics.quality.sampling_rates import category_rate
from metrics.sampling import sample_point

_CACHE_TTL_S = 60.0
_cache: dict[str, tuple[float, dict[str, dict[str, Any]]]] = {}


def _schema() -> str:
    return str(getattr(connection, "schema_name", "public"))


def _policies() -> dict[str, dict[str, Any]]:
    """{feature: {rate, category_rates, include_flagged}} for the current schema, cached."""
    schema = _schema()
    hit = _cache.get(schema)
    now = time.monotonic()
    if hit is not None and now - hit[0] < _CACHE_TTL_S:
        return hit[1]
    policies = {
        p.feature: {
            "rate": p.rate,
            "category_rates": dict(p.category_rates or {}),
            "include_flagged": p.include_flagged,
        }
        for p in SamplingPolicy.objects.all()
    }
    _cache[schema] = (now, policies)
    return policies


def sampling_cache_clear() -> None:
    _cache.clear()


def is_flagged(attributes: dict[str, Any] | None) -> bool:
    """The client asked for this event to be reviewed (`attributes.review` true)."""
    if not isinstance(attributes, dict):
        return False
    value = attributes.get("review")
    return value is True or (isinstance(value, str) and value.lower() in {"true", "1", "yes"})


def sampling_rate_for(
    *, feature: str, content_category: str, default_rate: float | None = None
) -> float:
    """The feature's policy rate, raised for under-sampled categories. Without any
    policy row, `default_rate` if the caller gives one, else 0.5%."""
    policies = _policies()
    policy = policies.get(feature) or policies.get("")
    if policy is None:
        return DEFAULT_SAMPLE_RATE if default_rate is None else default_rate
    rate = float(policy["rate"])
    boosted = policy["category_rates"].get(content_category)
    if boosted is not None:
        rate = max(rate, float(boosted))
    return rate


def sampling_decide(
    *,
    event_id: str,
    feature: str,
    content_category: str = "",
    flagged: bool = False,
    default_rate: float | None = None,
) -> bool:
    """Is this event graded (and so keeps its redacted content)? Deterministic per event id."""
    if feature == JUDGE_FEATURE:
        return False  # the judge's own calls are never graded
    if flagged:
        policies = _policies()
        policy = policies.get(feature) or policies.get("")
        if policy is None or policy["include_flagged"]:
            return True
    rate = sampling_rate_for(
        feature=feature, content_category=content_category, default_rate=default_rate
    )
    if rate <= 0:
        return False
    return rate >= 1 or sample_point(event_id) < rate


def sampling_policy_set(
    *,
    tenant_slug: str,
    feature: str = "",
    rate: float,
    category_weekly_minimum: int,
    include_flagged: bool = True,
) -> SamplingPolicy:
    """Create or change a feature's policy ("" = the default for every feature)."""
    errors: dict[str, str] = {}
    if not 0 <= rate <= 1:
        errors["rate"] = "Rate must be between 0 and 1 (0.005 is 0.5%)."
    if not 0 <= category_weekly_minimum <= 100_000:
        errors["category_weekly_minimum"] = "Between 0 and 100000."
    if len(feature) > 128:
        errors["feature"] = "At most 128 characters."
    if errors:
        raise ApplicationError("Invalid sampling policy.", details=errors)
    with transaction.atomic():
        policy, created = SamplingPolicy.objects.select_for_update().get_or_create(feature=feature)
        data = {
            "rate": float(rate),
            "category_weekly_minimum": int(category_weekly_minimum),
            "include_flagged": bool(include_flagged),
        }
        if created:
            for key, value in data.items():
                setattr(policy, key, value)
            policy.save()
            before: dict[str, Any] = {}
            after: dict[str, Any] = data
        else:
            policy, before, after = model_update(instance=policy, fields=list(data), data=data)
        audit_record(
            tenant_slug=tenant_slug,
            action="quality.sampling_policy_set",
            object_type="sampling_policy",
            object_id=feature or "(default)",
            before=before,
            after=after,
        )
    sampling_cache_clear()
    return policy


def sampling_rates_refresh(
    *,
    tenant_slug: str,
    now: Any = None,
    at_risk: Collection[tuple[str, str]] = (),
) -> int:
    """Recompute per-category raised rates from the last 7 days' volume. Returns policies changed.

    The rule is sampling_rates.category_rate: a category whose weekly volume x
    rate falls short of the policy's minimum gets rate = minimum / volume, and a
    (feature, category) series the drift job marked at risk (`at_risk`) is
    graded AT_RISK_FACTOR times more; both capped at 50%.
    """
    now = now or timezone.now()
    since = now - timedelta(days=7)
    volumes: dict[tuple[str, str], int] = {
        (row["feature"], row["content_category"]): row["n"]
        for row in Event.objects.filter(timestamp__gte=since, timestamp__lt=now)
        .exclude(feature=JUDGE_FEATURE)
        .values("feature", "content_category")
        .annotate(n=Count("id"))
    }
    policies = {p.feature: p for p in SamplingPolicy.objects.all()}
    if "" not in policies:
        policies[""] = SamplingPolicy.objects.create(feature="", rate=DEFAULT_SAMPLE_RATE)
    risky = set(at_risk)
    new_rates: dict[str, dict[str, float]] = {key: {} for key in policies}
    watched: dict[str, set[str]] = {key: set() for key in policies}
    for (feature, category), volume in volumes.items():
        key = feature if feature in policies else ""
        policy = policies[key]
        if (feature, category) in risky:
            watched[key].add(category)
        raised = category_rate(
            base_rate=policy.rate,
            weekly_volume=volume,
            weekly_minimum=policy.category_weekly_minimum,
            at_risk=(feature, category) in risky,
        )
        if raised > policy.rate:
            # The default policy's raises are keyed by category only; with several
            # features sharing it, the largest raise wins.
            current = new_rates[key].get(category, 0.0)
            new_rates[key][category] = round(max(current, raised), 6)
    changed = 0
    with transaction.atomic():
        for key, policy in sorted(policies.items()):
            if policy.category_rates != new_rates[key]:
                before = {"category_rates": policy.category_rates}
                policy, _, _ = model_update(
                    instance=policy,
                    fields=["category_rates"],
                    data={"category_rates": new_rates[key]},
                )
                audit_record(
                    tenant_slug=tenant_slug,
                    action="quality.sampling_rates_refreshed",
                    object_type="sampling_policy",
                    object_id=key or "(default)",
                    before=before,
                    after={"category_rates": new_rates[key], "at_risk": sorted(watched[key])},
                )
                changed += 1
    sampling_cache_clear()
    return changed
