"""Per-tenant ingest rate limits in Redis: fixed windows on requests and on events.

Each tenant has two counters per window (`VIGIL_INGEST_RATE_WINDOW_S`, 10 s by
default): requests, limited to VIGIL_INGEST_RATE_REQUESTS per second, and
events, limited to VIGIL_INGEST_RATE_EVENTS per second (averaged over the
window, so short bursts pass). Over a limit the caller answers 429 with
Retry-After = seconds until the window ends. If Redis is unreachable the
limit fails open (logged): losing telemetry is worse than a missed limit.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from functools import lru_cache

import redis
from django.conf import settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RateLimits:
    requests_per_s: float
    events_per_s: float
    window_s: int


def current_limits() -> RateLimits:
    return RateLimits(
        requests_per_s=float(settings.VIGIL_INGEST_RATE_REQUESTS),
        events_per_s=float(settings.VIGIL_INGEST_RATE_EVENTS),
        window_s=int(settings.VIGIL_INGEST_RATE_WINDOW_S),
    )


@lru_cache(maxsize=4)
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    retry_after_s: int = 0
    message: str = ""


def ingest_rate_check(*, tenant_slug: str, kind: str, amount: int = 1) -> RateDecision:
    """Count `amount` of `kind` ("requests" or "events") for the tenant; over the limit?"""
    limits = current_limits()
    per_second = limits.requests_per_s if kind == "requests" else limits.events_per_s
    if per_second <= 0:
        return RateDecision(True)
    now = time.time()
    window = int(now // limits.window_s)
    key = f"vigil:ratelimit:{tenant_slug}:{kind}:{window}"
    try:
        pipe = _client(settings.REDIS_URL).pipeline()
        pipe.incrby(key, amount)
        pipe.expire(key, limits.window_s * 2)
        count, _ = pipe.execute()
    except redis.RedisError:
        logger.warning("ingest rate limit skipped: Redis unavailable", exc_info=True)
        return RateDecision(True)
    allowed_total = per_second * limits.window_s
    if int(count) <= allowed_total:
        return RateDecision(True)
    retry_after = max(1, math.ceil((window + 1) * limits.window_s - now))
    return RateDecision(
        False,
        retry_after,
        f"Rate limit exceeded: at most {per_second:g} {kind} per second "
        f"(averaged over {limits.window_s} s) for this tenant.",
    )
