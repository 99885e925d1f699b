from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest

from metrics.models import Event
from tenants.models import Tenant

from .factories import add_events, hours_ago

FEATURES = ("chat", "search", "newsletter")
STATUSES = ("ok", "ok", "ok", "ok", "ok", "ok", "error", "timeout", "rate_limited", "cancelled")


def random_specs(n: int, *, seed: int = 42, max_hours: int = 24 * 6) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    specs = []
    for i in range(n):
        feature = rng.choice(FEATURES)
        violations = []
        if rng.random() < 0.1:
            violations = [
                {"policy": rng.choice(["pii", "toxicity"]), "severity": rng.choice(["low", "high"])}
                for _ in range(rng.randint(1, 2))
            ]
        specs.append(
            {
                "event_id": f"sel-{seed}-{i}",
                "timestamp": hours_ago(rng.randint(0, max_hours))
                + timedelta(minutes=rng.randint(0, 59), seconds=rng.randint(0, 59)),
                "feature": feature,
                "endpoint": f"/v1/{feature}",
                "model": rng.choice(["model-a", "model-b"]),
                "provider": rng.choice(["openai", "anthropic"]),
                "customer": rng.choice(["c1", "c2", "c3"]),
                "query_type": rng.choice(["q", "summary"]),
                "content_category": rng.choice(["news", "sports"]),
                "environment": rng.choice(["production", "production", "staging"]),
                "cost_usd": f"{rng.uniform(0.0001, 0.05) * (10 if feature == 'newsletter' else 1):.6f}",
                "input_tokens": rng.randint(10, 2000),
                "output_tokens": rng.randint(10, 500),
                "latency_ms": rng.lognormvariate(5.3, 0.8) if rng.random() > 0.03 else None,
                "time_to_first_token_ms": rng.lognormvariate(4, 0.5),
                "status": rng.choice(STATUSES),
                "fallback_used": rng.random() < 0.05,
                "retries": rng.choice([0, 0, 0, 1, 2]),
                "refused": rng.random() < 0.04,
                "policy_violations": violations,
                "scores": [{"name": "quality", "value": rng.random()}]
                if rng.random() < 0.3
                else [],
            }
        )
    return specs


@pytest.fixture
def dataset(tenant: Tenant) -> list[Event]:
    return add_events(tenant, random_specs(600))
