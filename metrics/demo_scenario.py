"""Realistic synthetic LLM traffic with the field guide's three incidents.

- Cost concentration: "newsletter-summarization" is ~4% of requests but ~40% of
  the cost (long inputs on an expensive model).
- Tail latency: the voice endpoint answers in ~200 ms (p50), but 3% of calls take
  a slow path (misconfigured cache) of 2.8-4.3 s, which puts p99 near 4 s.
- Quality drift: client-supplied moderation scores in the "forum" content
  category slide from ~0.94 to ~0.87 over the 30 days; other categories hold.

Plus the texture of real traffic: daily and weekly rhythm, a few customers
taking most of it, staging traffic, errors, rate limits, a provider outage
with fallbacks, refusals, policy violations and traces with child spans.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from metrics.models import Event

# USD per million tokens (input, output); a demo price table.
PRICES = {
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
    "claude-3-5-sonnet": (3.00, 15.00),
    "claude-3-haiku": (0.25, 1.25),
}
PROVIDER = {
    "gpt-4o": "openai",
    "gpt-4o-mini": "openai",
    "claude-3-5-sonnet": "anthropic",
    "claude-3-haiku": "anthropic",
}
CUSTOMERS = ("northwind", "contoso", "initech", "umbrella", "hooli", "stark", "wayne", "wonka")
CUSTOMER_WEIGHTS = (30, 22, 14, 10, 8, 7, 5, 4)
CATEGORIES = ("news", "forum", "marketplace")
# Newsletter summaries are slow by nature: their tail threshold is raised (EndpointThreshold).
TAIL_THRESHOLDS_MS = {"/v1/summarize": 15000.0}
DEFAULT_TAIL_MS = 2000.0


@dataclass(frozen=True)
class FeatureSpec:
    name: str
    endpoint: str
    model: str
    share: float  # of requests
    input_tokens: int
    output_tokens: int
    latency_ms: float  # median
    query_type: str
    fallback_model: str = "gpt-4o"


ACME_FEATURES = (
    FeatureSpec("support-chat", "/v1/chat", "gpt-4o-mini", 0.46, 1200, 250, 900, "question"),
    FeatureSpec(
        "ticket-triage", "/v1/triage", "claude-3-5-sonnet", 0.20, 2000, 250, 1100, "classify"
    ),
    FeatureSpec("voice-assistant", "/v1/voice", "gpt-4o-mini", 0.15, 400, 120, 200, "voice"),
    FeatureSpec(
        "content-moderation", "/v1/moderate", "claude-3-haiku", 0.12, 600, 50, 350, "moderate"
    ),
    FeatureSpec("kb-search", "/v1/search", "gpt-4o", 0.03, 3000, 300, 1400, "rag"),
    FeatureSpec(
        "newsletter-summarization", "/v1/summarize", "gpt-4o", 0.04, 12000, 1200, 5200, "summary"
    ),
)
GLOBEX_FEATURES = (
    FeatureSpec("reader-chat", "/v1/chat", "gpt-4o-mini", 0.40, 1000, 220, 850, "question"),
    FeatureSpec(
        "article-tagging", "/v1/tag", "claude-3-5-sonnet", 0.26, 1800, 200, 950, "classify"
    ),
    FeatureSpec("voice-briefing", "/v1/voice", "gpt-4o-mini", 0.15, 400, 120, 200, "voice"),
    FeatureSpec(
        "content-moderation", "/v1/moderate", "claude-3-haiku", 0.12, 600, 50, 350, "moderate"
    ),
    FeatureSpec("archive-search", "/v1/search", "gpt-4o", 0.03, 3000, 300, 1400, "rag"),
    FeatureSpec(
        "newsletter-summarization", "/v1/summarize", "gpt-4o", 0.04, 12000, 1200, 5200, "summary"
    ),
)


def features_for(tenant_slug: str) -> tuple[FeatureSpec, ...]:
    return GLOBEX_FEATURES if tenant_slug == "globex" else ACME_FEATURES


def hour_weight(moment: datetime) -> float:
    """Traffic rhythm: busy in the (UTC) afternoon, quieter at night and at weekends."""
    daily = 0.35 + 0.65 * math.exp(-(((moment.hour - 15) / 5.0) ** 2))
    return daily * (0.6 if moment.weekday() >= 5 else 1.0)


def cost_of(model: str, input_tokens: int, output_tokens: int, cached: int = 0) -> Decimal:
    price_in, price_out = PRICES[model]
    usd = (
        (input_tokens - cached) * price_in + cached * price_in / 2 + output_tokens * price_out
    ) / 1e6
    return Decimal(f"{usd:.10f}")


class DemoScenario:
    """Draws events between `start` and `end` for one tenant, reproducibly (per day seed)."""

    def __init__(
        self, *, tenant_slug: str, start: datetime, end: datetime, seed: int | None = None
    ) -> None:
        self.slug = tenant_slug
        self.start = start
        self.end = end
        self.seed = (
            seed
            if seed is not None
            else int(hashlib.sha256(tenant_slug.encode()).hexdigest()[:8], 16)
        )
        self.features = features_for(tenant_slug)
        self.cum_shares = list(_cumulative([f.share for f in self.features]))
        self.cum_customers = list(_cumulative(CUSTOMER_WEIGHTS))
        # A provider incident: two hours of anthropic failures 9 days before the end.
        outage = (end - timedelta(days=9)).replace(hour=14, minute=0, second=0, microsecond=0)
        self.outage = (outage, outage + timedelta(hours=2))

    # --- volume -----------------------------------------------------------------------------
    def hour_counts(self, day: date, per_day: int) -> list[tuple[datetime, int]]:
        """How many events each hour of `day` gets (inside [start, end))."""
        hours = [datetime(day.year, day.month, day.day, h, tzinfo=UTC) for h in range(24)]
        weights = [hour_weight(h) for h in hours]
        scale = per_day / sum(hour_weight(h.replace(day=1, month=1, year=2024)) for h in hours)
        out = []
        for moment, weight in zip(hours, weights, strict=True):
            if self.start <= moment < self.end:
                out.append((moment, max(1, round(weight * scale))))
        return out

    def events_for_day(self, day: date, per_day: int) -> list[Event]:
        return [Event(**fields) for fields in self.draw_day(day, per_day)]

    def draw_day(self, day: date, per_day: int) -> Iterator[dict[str, Any]]:
        rng = random.Random(f"{self.seed}-{day.isoformat()}")  # noqa: S311 (synthetic data)
        seq = 0
        for hour, count in self.hour_counts(day, per_day):
            for _ in range(count):
                moment = hour + timedelta(seconds=rng.random() * 3600)
                if moment >= self.end:
                    continue
                yield from self.draw(rng, moment, f"demo-{self.slug}-{day:%Y%m%d}-{seq:06d}")
                seq += 1

    # --- one call -----------------------------------------------------------------------------
    def draw(self, rng: random.Random, moment: datetime, event_id: str) -> list[dict[str, Any]]:
        """One call (and, for search, its child re-rank span) as Event field dicts."""
        spec = self.features[_pick(self.cum_shares, rng.random())]
        progress = (moment - self.start) / (self.end - self.start)  # 0..1 over the range
        model = spec.model
        jitter = rng.lognormvariate(0, 0.3)
        input_tokens = int(spec.input_tokens * jitter)
        output_tokens = int(spec.output_tokens * rng.lognormvariate(0, 0.35))
        cached = int(input_tokens * 0.5) if rng.random() < 0.2 else 0
        latency = spec.latency_ms * rng.lognormvariate(0, 0.25)
        if spec.endpoint == "/v1/voice" and rng.random() < 0.03:
            latency = rng.uniform(2800, 4300)  # the slow path
        elif rng.random() < 0.004:
            latency *= rng.uniform(3, 6)  # ordinary stragglers
        status, error_type, fallback_from, retries = "ok", "", "", 0
        roll = rng.random()
        in_outage = self.outage[0] <= moment < self.outage[1] and PROVIDER[model] == "anthropic"
        if in_outage and roll < 0.6:
            # The provider fails; most calls are rescued by the fallback model.
            if rng.random() < 0.8:
                fallback_from, model, retries = model, spec.fallback_model, 1
            else:
                status, error_type, retries = "error", "provider_unavailable", 2
        elif roll < 0.012:
            status, error_type = "error", rng.choice(("server_error", "invalid_response"))
        elif roll < 0.017:
            status, error_type, latency = "timeout", "timeout", 30000.0
        elif roll < 0.024:
            status, error_type, retries = "rate_limited", "rate_limit_exceeded", rng.randint(1, 3)
        elif roll < 0.026:
            status, error_type = "cancelled", "client_cancelled"
        if status != "ok" and status != "timeout":
            output_tokens = 0
        ttft = (
            latency * rng.uniform(0.25, 0.45) if spec.query_type in ("question", "voice") else None
        )
        category = rng.choice(CATEGORIES) if spec.name == "content-moderation" else "general"
        refused = rng.random() < (0.03 if spec.name == "content-moderation" else 0.006)
        violations = self._violations(rng, spec)
        scores = self._scores(rng, spec, category, progress)
        customer = CUSTOMERS[_pick(self.cum_customers, rng.random())]
        trace_id = hashlib.md5(event_id.encode(), usedforsecurity=False).hexdigest()
        is_tail = latency > TAIL_THRESHOLDS_MS.get(spec.endpoint, DEFAULT_TAIL_MS)
        keep_content = is_tail or status != "ok" or bool(violations)
        event = {
            "event_id": event_id,
            "timestamp": moment,
            "received_at": moment + timedelta(milliseconds=latency + 40),
            "feature": spec.name,
            "endpoint": spec.endpoint,
            "query_type": spec.query_type,
            "customer": customer,
            "user_id": f"u-{rng.randint(1, 4000)}",
            "session_id": f"s-{rng.randint(1, 20000)}",
            "environment": "staging" if rng.random() < 0.06 else "production",
            "release": "v42" if progress > 0.5 else "v41",
            "content_category": category,
            "trace_id": trace_id,
            "span_id": trace_id[:16],
            "provider": PROVIDER[model],
            "model": model,
            "response_model": model,
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "cached_input_tokens": cached,
            "cost_usd": cost_of(model, input_tokens, output_tokens, cached),
            "cost_source": "price_table",
            "price_version": "demo-2026-11",
            "latency_ms": round(latency, 2),
            "time_to_first_token_ms": round(ttft, 2) if ttft else None,
            "status": status,
            "error_type": error_type,
            "retries": retries,
            "fallback_used": bool(fallback_from),
            "fallback_from": fallback_from,
            "refused": refused,
            "policy_violations": violations,
            "violation_count": len(violations),
            "scores": scores,
            "input": f"[demo prompt for {spec.name}]" if keep_content else "",
            "output": "[demo answer]" if keep_content and status == "ok" else "",
            "is_tail": is_tail,
            "is_sampled": int(trace_id[:4], 16) < 330,  # ~0.5%
        }
        out = [event]
        if spec.query_type == "rag":
            out.append(self._rerank_child(rng, event))
        return out

    def _violations(self, rng: random.Random, spec: FeatureSpec) -> list[dict[str, str]]:
        roll = rng.random()
        if spec.name == "content-moderation" and roll < 0.02:
            return [{"policy": "toxicity", "severity": "high", "action": "block"}]
        if spec.query_type == "question" and roll < 0.006:
            return [{"policy": "pii", "severity": "medium", "action": "redact"}]
        if roll < 0.0015:
            return [{"policy": "prompt_injection", "severity": "critical", "action": "block"}]
        return []

    def _scores(
        self, rng: random.Random, spec: FeatureSpec, category: str, progress: float
    ) -> list[dict[str, Any]]:
        if spec.name == "content-moderation" and rng.random() < 0.35:
            base = 0.94 - 0.07 * progress if category == "forum" else 0.93
            value = min(1.0, max(0.0, rng.gauss(base, 0.04)))
            return [{"name": "moderation_accuracy", "value": round(value, 4)}]
        if spec.query_type == "question" and rng.random() < 0.05:
            return [{"name": "helpfulness", "value": round(min(1.0, rng.gauss(0.88, 0.06)), 4)}]
        return []

    def _rerank_child(self, rng: random.Random, parent: dict[str, Any]) -> dict[str, Any]:
        child = dict(parent)
        latency = 180 * rng.lognormvariate(0, 0.3)
        input_tokens = int(1500 * rng.lognormvariate(0, 0.2))
        child.update(
            event_id=f"{parent['event_id']}-rerank",
            timestamp=parent["timestamp"] + timedelta(milliseconds=rng.uniform(20, 60)),
            feature=f"{parent['feature']}-rerank",
            endpoint="/v1/rerank",
            query_type="rerank",
            model="claude-3-haiku",
            response_model="claude-3-haiku",
            provider="anthropic",
            span_id=parent["trace_id"][16:],
            parent_span_id=parent["span_id"],
            input_tokens=input_tokens,
            output_tokens=20,
            cached_input_tokens=0,
            cost_usd=cost_of("claude-3-haiku", input_tokens, 20),
            latency_ms=round(latency, 2),
            time_to_first_token_ms=None,
            status="ok",
            error_type="",
            retries=0,
            fallback_used=False,
            fallback_from="",
            refused=False,
            policy_violations=[],
            violation_count=0,
            scores=[],
            is_tail=False,
            input="",
            output="",
        )
        return child


def _cumulative(weights: Any) -> Iterator[float]:
    total = float(sum(weights))
    running = 0.0
    for w in weights:
        running += w / total
        yield running


def _pick(cumulative: list[float], roll: float) -> int:
    for index, edge in enumerate(cumulative):
        if roll < edge:
            return index
    return len(cumulative) - 1
