"""Cache of the alerts app: a small in-process layer in front of Redis.

Keys are hashed (no spaces or long keys for Redis) and carry the tenant
schema (django-tenants' key function adds it for Redis; the local layer adds
it itself). The prefix comes from settings so that tests can give each test
its own namespace. The local layer saves a Redis round trip per rule and
cycle: an evaluation worker reads the same complete hours every minute.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import connection

T = TypeVar("T")
LOCAL_MAX = 50_000
_local: OrderedDict[str, tuple[float, Any]] = OrderedDict()


def cache_key(*parts: object) -> str:
    prefix = getattr(settings, "VIGIL_ALERTS_CACHE_PREFIX", "alerts")
    digest = hashlib.sha1(repr(parts).encode(), usedforsecurity=False).hexdigest()
    return f"{prefix}:{parts[0]}:{digest}"


def cached(key: str, ttl_s: float, compute: Callable[[], T]) -> T:
    """The value under `key` (local, then Redis), computing and storing it when missing."""
    local_key = f"{getattr(connection, 'schema_name', 'public')}:{key}"
    now = time.monotonic()
    hit = _local.get(local_key)
    if hit is not None and hit[0] > now:
        return hit[1]
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, int(ttl_s))
    _local[local_key] = (now + min(ttl_s, 60.0), value)
    _local.move_to_end(local_key)
    while len(_local) > LOCAL_MAX:
        _local.popitem(last=False)
    return value


def _local_key(key: str) -> str:
    return f"{getattr(connection, 'schema_name', 'public')}:{key}"


def cached_many(keys: list[str]) -> dict[str, Any]:
    """The values found for `keys` (local layer, then one Redis round trip for the rest)."""
    now = time.monotonic()
    found: dict[str, Any] = {}
    remote: list[str] = []
    for key in keys:
        hit = _local.get(_local_key(key))
        if hit is not None and hit[0] > now:
            found[key] = hit[1]
        else:
            remote.append(key)
    if remote:
        for key, value in cache.get_many(remote).items():
            found[key] = value
            _remember(key, value, 60.0)
    return found


def cached_store(values: dict[str, Any], ttl_s: float) -> None:
    if values:
        cache.set_many(values, int(ttl_s))
    for key, value in values.items():
        _remember(key, value, ttl_s)


def _remember(key: str, value: Any, ttl_s: float) -> None:
    local_key = _local_key(key)
    _local[local_key] = (time.monotonic() + min(ttl_s, 60.0), value)
    _local.move_to_end(local_key)
    while len(_local) > LOCAL_MAX:
        _local.popitem(last=False)
