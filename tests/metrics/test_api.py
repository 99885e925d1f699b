"""The metrics read API and the Prometheus endpoint: values, filters, errors, isolation."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from metrics import selectors as s
from metrics.models import Event
from tenants.models import Tenant

from .factories import add_events, hours_ago, in_tenant

API = "/api/v1/metrics"


def _get(client: Client, path: str, **params: Any) -> Any:
    response = client.get(f"{API}/{path}", params)
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def reader(other_tenant: Tenant, api_key_factory: Callable[..., str]) -> Client:
    """A read key of the other tenant (beta)."""
    return Client(HTTP_AUTHORIZATION=f"Bearer {api_key_factory(other_tenant, ['read'])}")


def test_overview_and_cost_match_selectors(
    api_client: Client, tenant: Tenant, dataset: list[Event]
) -> None:
    body = _get(api_client, "overview", range="7d")
    f = s.metrics_filter_for(range_name="7d")
    with in_tenant(tenant):
        expected = s.overview(f)
        breakdown = s.cost_breakdown(f, by="customer")
    assert body["requests"] == expected.requests
    spend = next(h for h in body["headlines"] if h["name"] == "cost_usd")
    assert Decimal(str(spend["value"])) == pytest.approx(expected.get("cost_usd").value)
    cost = _get(api_client, "cost", range="7d", by="customer", top=2)
    assert [r["key"] for r in cost["breakdown"]] == [r.key for r in breakdown]
    assert Decimal(cost["breakdown"][0]["cost_usd"]) == breakdown[0].cost_usd
    assert cost["top_cost_share"] == pytest.approx(
        (breakdown[0].cost_share or 0) + (breakdown[1].cost_share or 0)
    )
    assert cost["series"]["bucket"] == "hour" and len(cost["series"]["buckets"]) == 168


def test_filters_apply(api_client: Client, tenant: Tenant, dataset: list[Event]) -> None:
    body = _get(api_client, "cost", range="24h", feature="chat", model="model-a")
    f = s.metrics_filter_for(range_name="24h")
    raw = [
        e
        for e in dataset
        if f.start <= e.timestamp < f.end and e.feature == "chat" and e.model == "model-a"
    ]
    assert body["requests"] == len(raw)
    assert body["filter"]["dimensions"] == {"feature": "chat", "model": "model-a"}
    assert {r["key"] for r in body["breakdown"]} <= {"chat"}


def test_layer_endpoints_answer(api_client: Client, dataset: list[Event]) -> None:
    latency = _get(api_client, "latency", range="30d", by="feature")
    assert latency["series"]["bucket"] == "day"
    assert {r["key"] for r in latency["breakdown"]} == {"chat", "search", "newsletter"}
    assert latency["summary"]["p99_ms"] >= latency["summary"]["p50_ms"]
    reliability = _get(api_client, "reliability", range="7d")
    assert set(reliability["provider_availability"]["lines"]) == {"openai", "anthropic"}
    assert reliability["summary"]["failures"] == sum(reliability["summary"]["by_status"].values())
    safety = _get(api_client, "safety")
    assert sum(r["count"] for r in safety["by_policy"]) == safety["violations"]
    quality = _get(api_client, "quality", by="content_category")
    assert {r["key"] for r in quality["breakdown"]} == {"news", "sports"}


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("overview", {"range": "2w"}, "range"),
        ("cost", {"by": "colour"}, "by"),
        ("cost", {"top": "many"}, "top"),
        ("latency", {"from": "nope", "to": "2026-01-01"}, "from"),
        ("quality", {"feature": "x" * 400}, "feature"),
        ("events", {"limit": "0"}, "limit"),
        ("events", {"cursor": "garbage"}, "cursor"),
        ("events", {"status": "exploded"}, "status"),
    ],
)
def test_bad_input_is_400_naming_the_field(
    api_client: Client, path: str, params: dict[str, str], field: str
) -> None:
    response = api_client.get(f"{API}/{path}", params)
    assert response.status_code == 400, response.content
    assert field in response.json()["details"]


def test_scope_and_key_required(
    tenant: Tenant, api_key_factory: Callable[..., str], client: Client
) -> None:
    ingest_only = Client(HTTP_AUTHORIZATION=f"Bearer {api_key_factory(tenant, ['ingest'])}")
    assert ingest_only.get(f"{API}/overview").status_code == 403
    assert "read" in ingest_only.get(f"{API}/prometheus").json()["error"]
    assert client.get(f"{API}/overview").status_code in (401, 403)


def test_event_list_paginates_within_a_query_budget(
    api_client: Client, dataset: list[Event], django_assert_max_num_queries: Any
) -> None:
    # Key lookup and schema switches take ~9 queries; the page itself is one, for any size.
    seen: list[str] = []
    params: dict[str, Any] = {"range": "7d", "limit": 100}
    with django_assert_max_num_queries(12):
        body = _get(api_client, "events", **params)
    seen += [e["event_id"] for e in body["items"]]
    while body["next_cursor"]:
        body = _get(api_client, "events", cursor=body["next_cursor"], **params)
        seen += [e["event_id"] for e in body["items"]]
    f = s.metrics_filter_for(range_name="7d")
    assert len(seen) == len(set(seen)) == sum(1 for e in dataset if f.start <= e.timestamp < f.end)
    with django_assert_max_num_queries(12):
        tails = _get(api_client, "events", tail="true", limit=200)
    assert all(e["latency_ms"] > 2000 for e in tails["items"])


def test_event_detail_and_cross_tenant(api_client: Client, reader: Client, tenant: Tenant) -> None:
    add_events(tenant, [{"event_id": "api-detail-1", "timestamp": hours_ago(1), "trace_id": "tr"}])
    body = _get(api_client, "events/api-detail-1")
    assert body["event"]["event_id"] == "api-detail-1" and len(body["trace"]) == 1
    assert api_client.get(f"{API}/events/missing").status_code == 404
    # beta's key sees none of alpha's data
    assert reader.get(f"{API}/events/api-detail-1").status_code == 404
    assert _get(reader, "overview")["requests"] == 0
    assert _get(reader, "events")["items"] == []
    assert "api-detail" not in reader.get(f"{API}/prometheus").content.decode()


def test_prometheus_exposition(api_client: Client, tenant: Tenant) -> None:
    add_events(
        tenant,
        [
            {"timestamp": hours_ago(2), "feature": 'odd"name', "cost_usd": "0.5",
             "latency_ms": 150.0, "input_tokens": 7},
            {"timestamp": hours_ago(2), "feature": 'odd"name', "cost_usd": "0.25",
             "latency_ms": 3000.0, "status": "timeout", "input_tokens": 3},
        ],
    )  # fmt: skip
    response = api_client.get(f"{API}/prometheus")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    text = response.content.decode()
    labels = 'feature="odd\\"name",model="gpt-4o-mini",provider="openai"'
    assert f"vigil_requests_total{{{labels}}} 2" in text
    assert f'vigil_errors_total{{{labels},status="timeout"}} 1' in text
    assert f"vigil_cost_usd_total{{{labels}}} 0.75" in text
    assert f'vigil_tokens_total{{{labels},type="input"}} 10' in text
    assert f'vigil_latency_seconds_bucket{{{labels},le="0.25"}} 1' in text
    assert f'vigil_latency_seconds_bucket{{{labels},le="4"}} 2' in text
    assert f'vigil_latency_seconds_bucket{{{labels},le="+Inf"}} 2' in text
    assert f"vigil_latency_seconds_count{{{labels}}} 2" in text
    assert "# TYPE vigil_latency_seconds histogram" in text
