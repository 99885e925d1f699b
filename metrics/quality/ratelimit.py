"""A per-tenant token bucket in Redis for judge calls (atomic Lua script).

The bucket holds up to `per_minute` tokens and refills continuously; every
judge call takes one. Workers of one tenant share the bucket, so adding
workers never raises a tenant's call rate above its setting.
"""

from __future__ import annotations

import time
from functools import lru_cache

import redis
from django.conf import settings

_SCRIPT = """
local key = KEYS[1]
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local state = redis.call('HMGET', key, 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil then tokens = capacity; ts = now end
tokens = math.min(capacity, tokens + (now - ts) * rate)
local allowed = 0
if tokens >= 1 then tokens = tokens - 1; allowed = 1 end
redis.call('HSET', key, 'tokens', tokens, 'ts', now)
redis.call('EXPIRE', key, math.ceil(capacity / rate) + 60)
return allowed
"""


@lru_cache(maxsize=1)
def _client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


def judge_token_take(*, tenant_slug: str, per_minute: int) -> bool:
    """Take one judge-call token for the tenant; False when its bucket is empty."""
    capacity = max(1, int(per_minute))
    key = f"vigil:quality:bucket:{tenant_slug}"
    allowed = _client().eval(_SCRIPT, 1, key, capacity, capacity / 60.0, time.time())
    return bool(allowed)


def judge_bucket_reset(*, tenant_slug: str) -> None:
    _client().delete(f"vigil:quality:bucket:{tenant_slug}")
