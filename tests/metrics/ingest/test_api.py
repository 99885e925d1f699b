"""POST /api/v1/events through Django's test client: answers, status codes, limits."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from metrics.ingest.body import MAX_BODY_BYTES
from metrics.models import Event
from tenants.models import Tenant

from .helpers import good, uid

URL = "/api/v1/events"


def post(client: Client, body: Any, **extra: Any) -> Any:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.generic("POST", URL, data, content_type="application/json", **extra)


def stored(tenant: Tenant, *event_ids: str) -> list[str]:
    with tenant_context(tenant):
        return sorted(
            Event.objects.filter(event_id__in=event_ids).values_list("event_id", flat=True)
        )


def test_all_accepted_is_200_and_stored(api_client: Client, tenant: Tenant) -> None:
    events = [good(), good()]
    response = post(api_client, {"events": events})
    assert response.status_code == 200
    body = response.json()
    assert (body["accepted"], body["duplicate"], body["rejected"]) == (2, 0, 0)
    assert [r["status"] for r in body["results"]] == ["accepted", "accepted"]
    assert stored(tenant, *(e["event_id"] for e in events)) == sorted(e["event_id"] for e in events)


def test_mixed_batch_is_207_with_every_error_and_only_good_ones_stored(
    api_client: Client, tenant: Tenant
) -> None:
    first, second = good(), good()
    bad = {
        "event_id": uid(),
        "timestamp": "yesterday-ish",
        "feature": "",
        "model": "gpt-4o",
        "input_tokens": -5,
        "latency_ms": "fast",
        "status": "meh",
        "policy_violations": [{"severity": "high"}],
        "scores": [{"name": "q", "value": "good"}],
        "fallback_used": "yes",
    }
    response = post(api_client, {"events": [first, bad, first, second]})
    assert response.status_code == 207
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["accepted", "rejected", "duplicate", "accepted"]
    assert results[1]["event_id"] == bad["event_id"]
    assert results[1]["errors"] == {
        "feature": "is required.",
        "timestamp": "must be an ISO 8601 date-time or a Unix epoch number.",
        "input_tokens": "must be between 0 and 100000000, got -5.",
        "latency_ms": "must be a number.",
        "fallback_used": "must be true or false.",
        "status": "must be one of cancelled, error, ok, rate_limited, timeout.",
        "policy_violations[0].policy": "is required.",
        "scores[0].value": "must be a number.",
    }
    assert stored(tenant, first["event_id"], second["event_id"], str(bad["event_id"])) == sorted(
        [first["event_id"], second["event_id"]]
    )
    again = post(api_client, {"events": [first, second]})
    assert again.status_code == 200
    assert [r["status"] for r in again.json()["results"]] == ["duplicate", "duplicate"]


def test_all_rejected_is_400_with_results(api_client: Client) -> None:
    response = post(api_client, {"events": [{"event_id": uid()}]})
    assert response.status_code == 400
    body = response.json()
    assert body["error"].startswith("Every event was rejected")
    assert set(body["results"][0]["errors"]) == {"timestamp", "feature", "model"}


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"{not json", 400, "not valid JSON"),
        (b"", 400, "empty"),
        (b"[1, 2]", 400, '{"events": [...]}'),
        (b'{"events": {"a": 1}}', 400, "must be a list"),
        (b'{"events": []}', 400, "is empty"),
        (b'{"events": [{"x": 1e400}]}', 400, "not valid JSON"),
        (b"\xff\xfe", 400, "not valid JSON"),
    ],
)
def test_bodies_that_are_not_a_batch(
    api_client: Client, body: bytes, status: int, message: str
) -> None:
    response = post(api_client, body)
    assert response.status_code == status
    assert message in response.json()["error"]


def test_more_than_1000_events_is_413(api_client: Client) -> None:
    response = post(api_client, {"events": [{}] * 1001})
    assert response.status_code == 413
    assert "at most 1000" in response.json()["error"]


def test_declared_size_over_limit_is_413_before_reading(api_client: Client) -> None:
    response = api_client.generic(
        "POST", URL, b"{}", content_type="application/json", CONTENT_LENGTH=str(MAX_BODY_BYTES + 1)
    )
    assert response.status_code == 413


def test_body_over_limit_is_413(api_client: Client) -> None:
    big = {"events": [good(padding="x" * (MAX_BODY_BYTES + 10))]}
    assert post(api_client, big).status_code == 413


def test_gzip_body_is_accepted(api_client: Client, tenant: Tenant) -> None:
    event = good()
    data = gzip.compress(json.dumps({"events": [event]}).encode())
    response = post(api_client, data, HTTP_CONTENT_ENCODING="gzip")
    assert response.status_code == 200
    assert stored(tenant, event["event_id"]) == [event["event_id"]]


def test_gzip_bomb_is_413(api_client: Client) -> None:
    bomb = gzip.compress(b'{"events": [' + b" " * (MAX_BODY_BYTES * 4) + b"]}")
    assert len(bomb) < 100_000
    response = post(api_client, bomb, HTTP_CONTENT_ENCODING="gzip")
    assert response.status_code == 413
    assert "decompressed" in response.json()["error"]


def test_broken_gzip_and_unknown_encoding(api_client: Client) -> None:
    assert post(api_client, b"not gzip", HTTP_CONTENT_ENCODING="gzip").status_code == 400
    truncated = gzip.compress(json.dumps({"events": [good()]}).encode())[:-12]
    assert post(api_client, truncated, HTTP_CONTENT_ENCODING="gzip").status_code == 400
    assert post(api_client, b"{}", HTTP_CONTENT_ENCODING="br").status_code == 415


def test_wrong_content_type_is_415(api_client: Client) -> None:
    response = api_client.post(URL, {"events": "x"})  # multipart form
    assert response.status_code == 415


def test_key_without_ingest_scope_is_403(
    tenant: Tenant, api_key_factory: Callable[..., str]
) -> None:
    client = Client(HTTP_AUTHORIZATION=f"Bearer {api_key_factory(tenant, ['read'])}")
    response = post(client, {"events": [good()]})
    assert response.status_code == 403
    assert "ingest" in response.json()["error"]


def test_missing_or_wrong_key_is_401(db: None) -> None:
    assert post(Client(), {"events": [good()]}).status_code == 401
    wrong = Client(HTTP_AUTHORIZATION="Bearer vgl_not_a_real_key_123456")
    assert post(wrong, {"events": [good()]}).status_code in {401, 403}


def test_suspended_tenant_is_refused(tenant: Tenant, api_key_factory: Callable[..., str]) -> None:
    client = Client(HTTP_AUTHORIZATION=f"Bearer {api_key_factory(tenant, ['ingest'])}")
    Tenant.objects.filter(pk=tenant.pk).update(status="suspended")
    event = good()
    response = post(client, {"events": [event]})
    assert response.status_code == 403
    assert "suspended" in response.json()["error"]
    assert stored(tenant, event["event_id"]) == []


def test_get_is_405(api_client: Client) -> None:
    assert api_client.get(URL).status_code == 405


def test_same_event_id_in_two_tenants_is_independent(
    api_client: Client,
    tenant: Tenant,
    other_tenant: Tenant,
    api_key_factory: Callable[..., str],
) -> None:
    beta = Client(HTTP_AUTHORIZATION=f"Bearer {api_key_factory(other_tenant, ['ingest'])}")
    event = good(feature="alpha-feature")
    assert post(api_client, {"events": [event]}).json()["accepted"] == 1
    beta_event = {**event, "feature": "beta-feature"}
    assert post(beta, {"events": [beta_event]}).json()["accepted"] == 1
    with tenant_context(tenant):
        assert Event.objects.get(event_id=event["event_id"]).feature == "alpha-feature"
    with tenant_context(other_tenant):
        assert Event.objects.get(event_id=event["event_id"]).feature == "beta-feature"


def test_beta_key_on_alpha_host_is_refused(
    tenant: Tenant, other_tenant: Tenant, api_key_factory: Callable[..., str]
) -> None:
    beta_key = api_key_factory(other_tenant, ["ingest"])
    client = Client(HTTP_AUTHORIZATION=f"Bearer {beta_key}", HTTP_HOST="alpha.localhost")
    event = good()
    assert post(client, {"events": [event]}).status_code == 403
    assert stored(tenant, event["event_id"]) == []
    assert stored(other_tenant, event["event_id"]) == []


@pytest.mark.parametrize(
    "fields",
    [
        {"timestamp": "0001-01-01T00:00:00+05:00"},
        {"timestamp": "9999-12-31T23:59:59-05:00"},
        {"timestamp": 1e300},
        {"timestamp": -1e20},
        {"cost_usd": "sNaN"},
        {"cost_usd": "1e5000"},
        {"cost_usd": [1]},
        {"input_tokens": 1e300},
        {"input_tokens": 10**40},
        {"latency_ms": -0.5},
        {"model": "   "},
        {"event_id": 17},
        {"policy_violations": "pii"},
        {"policy_violations": [{"policy": "pii", "severity": 3}]},
        {"scores": [{"name": "q", "value": True}]},
        {"retrieval": [{"id": 5, "score": "high"}]},
        {"attributes": ["not", "an", "object"]},
        {"input": 12},
    ],
)
def test_odd_values_are_rejected_not_500(api_client: Client, fields: dict[str, Any]) -> None:
    event = good(**fields)
    response = post(api_client, {"events": [event, good()]})
    assert response.status_code == 207, response.content
    assert response.json()["results"][0]["status"] == "rejected"
    assert response.json()["results"][1]["status"] == "accepted"


def test_query_count_does_not_grow_with_the_batch(api_client: Client) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    post(api_client, {"events": [good()]})  # warm: the stage table exists
    with CaptureQueriesContext(connection) as small:
        assert post(api_client, {"events": [good() for _ in range(5)]}).status_code == 200
    with CaptureQueriesContext(connection) as large:
        assert post(api_client, {"events": [good() for _ in range(400)]}).status_code == 200
    assert len(large) == len(small)


def test_storage_failure_is_503_with_retry_after(api_client: Client, tenant: Tenant) -> None:
    from django.db import connection

    # A real storage failure: the events table is gone (renamed inside this test's
    # transaction, which is rolled back afterwards).
    with connection.cursor() as cursor:
        cursor.execute('ALTER TABLE "alpha"."metrics_event" RENAME TO "metrics_event_gone"')
    response = post(api_client, {"events": [good()]})
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "nothing was stored" in response.json()["error"]
