"""Over real HTTP (`requests` against the live server): errors, gzip, concurrent retries.

These tests commit their rows (committed_db) and use unique event ids.
"""

from __future__ import annotations

import gzip
import json
import threading
from typing import Any

import requests
from django_tenants.utils import tenant_context

from core.request_context import acting_as
from metrics.models import Event
from tenants.models import Tenant
from tenants.services import api_key_create

from .helpers import good, uid


def _key(tenant: Tenant, scopes: list[str]) -> str:
    with acting_as("test setup"):
        return api_key_create(tenant=tenant, name="live", scopes=scopes).raw_key


def _post(url: str, key: str, body: Any, **headers: str) -> requests.Response:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return requests.post(
        f"{url}/api/v1/events",
        data=data,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json", **headers},
        timeout=30,
    )


def test_error_paths_over_http(
    live_server_url: str, committed_db: None, session_tenants: dict[str, Tenant]
) -> None:
    key = _key(session_tenants["alpha"], ["ingest"])
    assert _post(live_server_url, "wrong-key", {"events": [good()]}).status_code == 401
    read_only = _key(session_tenants["alpha"], ["read"])
    assert _post(live_server_url, read_only, {"events": [good()]}).status_code == 403
    assert _post(live_server_url, key, b"{oops").status_code == 400
    assert _post(live_server_url, key, {"rows": []}).status_code == 400
    assert _post(live_server_url, key, {"events": [{}] * 1001}).status_code == 413
    bomb = gzip.compress(b" " * (6 * 1024 * 1024))
    assert _post(live_server_url, key, bomb, **{"Content-Encoding": "gzip"}).status_code == 413
    mixed = _post(live_server_url, key, {"events": [good(), {"event_id": uid()}]})
    assert mixed.status_code == 207
    assert [r["status"] for r in mixed.json()["results"]] == ["accepted", "rejected"]
    zipped = gzip.compress(json.dumps({"events": [good()]}).encode())
    response = _post(live_server_url, key, zipped, **{"Content-Encoding": "gzip"})
    assert response.status_code == 200


def test_same_batch_sent_twice_concurrently_is_stored_once(
    live_server_url: str, committed_db: None, session_tenants: dict[str, Tenant]
) -> None:
    tenant = session_tenants["alpha"]
    key = _key(tenant, ["ingest"])
    batch = {"events": [good(event_id=uid("conc")) for _ in range(300)]}
    barrier = threading.Barrier(4)
    answers: list[dict[str, Any]] = []

    def send() -> None:
        barrier.wait()
        response = _post(live_server_url, key, batch)
        assert response.status_code == 200, response.text
        answers.append(response.json())

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(answers) == 4
    ids = [e["event_id"] for e in batch["events"]]
    accepted = [r["event_id"] for a in answers for r in a["results"] if r["status"] == "accepted"]
    assert sorted(accepted) == sorted(ids)  # each event accepted by exactly one request
    assert sum(a["duplicate"] for a in answers) == 3 * len(ids)
    with tenant_context(tenant):
        assert Event.objects.filter(event_id__in=ids).count() == len(ids)
