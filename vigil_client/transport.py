"""Sending one batch to Vigil over HTTP (stdlib only), and what the answer means.

A batch keeps its events' ids across retries, so a retry after a timeout (when
Vigil may already have stored the first attempt) is answered `duplicate` and
never counted twice.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

logger = logging.getLogger("vigil_client")

USER_AGENT = "vigil-client-python/0.1"
RETRYABLE_STATUSES = {408, 425, 429, 500, 502, 503, 504}
MAX_RETRY_AFTER_S = 300.0


@dataclass
class SendResult:
    """What happened to one attempt."""

    delivered: bool  # Vigil answered 2xx: every event is accepted, duplicate or rejected
    retryable: bool = False  # not delivered, and worth trying again with the same ids
    retry_after_s: float | None = None
    status: int | None = None
    accepted: int = 0
    duplicate: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            from datetime import UTC, datetime

            seconds = (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


def _outcomes(payload: Any) -> list[dict[str, Any]]:
    """Per-event outcomes from the answer, whichever key the server lists them under."""
    if not isinstance(payload, dict):
        return []
    for key in ("results", "events", "outcomes"):
        value = payload.get(key)
        if isinstance(value, list):
            return [item for item in value if isinstance(item, dict)]
    return []


def _summarise(status: int, body: bytes, result: SendResult) -> None:
    try:
        payload = json.loads(body or b"null")
    except ValueError:
        payload = None
    for outcome in _outcomes(payload):
        state = str(outcome.get("status", ""))
        if state == "accepted":
            result.accepted += 1
        elif state == "duplicate":
            result.duplicate += 1
        elif state == "rejected":
            result.rejected.append(outcome)
    if status >= 400 and isinstance(payload, dict):
        result.error = str(payload.get("error") or payload.get("message") or "")[:500]


def send_batch(
    *, endpoint: str, api_key: str, events: list[dict[str, Any]], timeout_s: float
) -> SendResult:
    body = gzip.compress(json.dumps({"events": events}, default=str).encode())
    request = urllib.request.Request(  # noqa: S310 - the endpoint is the configured Vigil URL
        endpoint,
        data=body,
        method="POST",
        headers={
            "Authorization": f"Bearer {api_key}",
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
            "User-Agent": USER_AGENT,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310
            status = response.status
            result = SendResult(delivered=True, status=status)
            _summarise(status, response.read(), result)
            return result
    except urllib.error.HTTPError as exc:
        status = exc.code
        result = SendResult(delivered=False, status=status)
        with contextlib.suppress(OSError):
            _summarise(status, exc.read(), result)
        if status == 400 and result.rejected:
            # Vigil answered per event and refused every one: delivered, nothing to retry.
            result.delivered = True
            return result
        result.retryable = status in RETRYABLE_STATUSES
        result.retry_after_s = _retry_after_seconds(exc.headers.get("Retry-After"))
        if not result.error:
            result.error = f"HTTP {status}"
        return result
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
        return SendResult(delivered=False, retryable=True, error=f"{type(exc).__name__}: {exc}")
