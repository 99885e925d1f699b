"""Per-tenant rate limits (Redis): 429 with Retry-After; Redis down fails open."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from .helpers import good

URL = "/api/v1/events"


def post(client: Client, events: list[dict[str, Any]]) -> Any:
    return client.generic(
        "POST", URL, json.dumps({"events": events}), content_type="application/json"
    )


def test_requests_over_the_limit_get_429_with_retry_after(
    api_client: Client, settings: Any
) -> None:
    settings.VIGIL_INGEST_RATE_REQUESTS = 0.2  # 2 requests per 10 s window
    settings.VIGIL_INGEST_RATE_WINDOW_S = 10
    statuses = [post(api_client, [good()]) for _ in range(4)]
    limited = [r for r in statuses if r.status_code == 429]
    assert len(limited) >= 2
    assert int(limited[0]["Retry-After"]) in range(1, 11)
    assert "Rate limit exceeded" in limited[0].json()["error"]


def test_events_over_the_limit_get_429(api_client: Client, settings: Any) -> None:
    settings.VIGIL_INGEST_RATE_EVENTS = 1  # 10 events per 10 s window
    response = post(api_client, [good() for _ in range(11)])
    assert response.status_code == 429
    assert "events per second" in response.json()["error"]
    assert int(response["Retry-After"]) >= 1


def test_redis_down_fails_open(api_client: Client, settings: Any) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    settings.VIGIL_INGEST_RATE_REQUESTS = 0.1
    assert post(api_client, [good()]).status_code == 200
