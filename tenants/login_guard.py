"""Brute-force protection for the login form.

Failed attempts are counted in Redis per (username, IP) and per IP over a sliding
15-minute window of fixed buckets; past the limits the login form refuses to check
passwords at all until the window passes. Successful logins clear the username's count.

If Redis is unreachable the guard steps aside (logged) rather than locking everyone
out: logins still need the password, hashed slowly by Django's PBKDF2.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache
from django_tenants.utils import schema_context
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)
T = TypeVar("T")

WINDOW_SECONDS = 15 * 60
MAX_FAILURES_PER_USER_AND_IP = 10
MAX_FAILURES_PER_IP = 50


def _key(kind: str, value: str) -> str:
    digest = hashlib.sha256(value.lower().encode()).hexdigest()[:32]
    return f"login-failures:{kind}:{digest}"


def _keys(username: str, ip: str) -> tuple[str, str]:
    return _key("user-ip", f"{username}|{ip}"), _key("ip", ip)


def _tolerant(action: Callable[[], T], fallback: T) -> T:
    """Run a cache action; if Redis cannot be reached, log it and return `fallback`."""
    try:
        with schema_context("public"):  # one counter for every host
            return action()
    except (ConnectionError, OSError, RedisError) as exc:
        logger.error("Login guard skipped, cache unavailable: %s", exc)
        return fallback


def login_blocked(*, username: str, ip: str) -> bool:
    user_key, ip_key = _keys(username, ip)
    no_counts: dict[str, int] = {}
    counts = _tolerant(lambda: cache.get_many([user_key, ip_key]), no_counts)
    return (
        counts.get(user_key, 0) >= MAX_FAILURES_PER_USER_AND_IP
        or counts.get(ip_key, 0) >= MAX_FAILURES_PER_IP
    )


def login_failure_record(*, username: str, ip: str) -> None:
    def count() -> None:
        for key in _keys(username, ip):
            if cache.add(key, 1, timeout=WINDOW_SECONDS):
                continue
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.add(key, 1, timeout=WINDOW_SECONDS)

    _tolerant(count, None)


def login_success_record(*, username: str, ip: str) -> None:
    _tolerant(lambda: cache.delete(_keys(username, ip)[0]), None)
