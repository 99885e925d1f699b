"""Brute-force protection for the login form.

Failed attempts are counted in Redis per (username, IP) and per IP over a sliding
15-minute window of fixed buckets; past the limits the login form refuses to check
passwords at all until the window passes. Successful logins clear the username's count.
"""

from __future__ import annotations

import hashlib

from django.core.cache import cache
from django_tenants.utils import schema_context

WINDOW_SECONDS = 15 * 60
MAX_FAILURES_PER_USER_AND_IP = 10
MAX_FAILURES_PER_IP = 50


def _key(kind: str, value: str) -> str:
    digest = hashlib.sha256(value.lower().encode()).hexdigest()[:32]
    return f"login-failures:{kind}:{digest}"


def _keys(username: str, ip: str) -> tuple[str, str]:
    return _key("user-ip", f"{username}|{ip}"), _key("ip", ip)


def login_blocked(*, username: str, ip: str) -> bool:
    user_key, ip_key = _keys(username, ip)
    with schema_context("public"):  # one counter for every host
        counts = cache.get_many([user_key, ip_key])
    return (
        counts.get(user_key, 0) >= MAX_FAILURES_PER_USER_AND_IP
        or counts.get(ip_key, 0) >= MAX_FAILURES_PER_IP
    )


def login_failure_record(*, username: str, ip: str) -> None:
    with schema_context("public"):
        for key in _keys(username, ip):
            if cache.add(key, 1, timeout=WINDOW_SECONDS):
                continue
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.add(key, 1, timeout=WINDOW_SECONDS)


def login_success_record(*, username: str, ip: str) -> None:
    with schema_context("public"):
        cache.delete(_keys(username, ip)[0])
