"""The alerts API: scopes, validation, audit, cross-tenant isolation, and the budget check."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from alerts.budgets.check import budget_check
from alerts.budgets.services import budget_set
from alerts.incidents.models import Incident
from alerts.rules.models import AlertRule
from compliance.models import AuditEntry
from metrics.demo_traffic import event_build, events_insert

RULE = {
    "name": "p95 too slow",
    "metric": "latency_p95",
    "feature": "search",
    "window_minutes": 10,
    "comparison": "gt",
    "warning_threshold": 1500,
    "critical_threshold": 3000,
    "for_evaluations": 3,
    "min_samples": 20,
}


def _client(key: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def _post(client: Client, path: str, body: Any) -> Any:
    return client.post(path, data=json.dumps(body), content_type="application/json")


@pytest.fixture
def writer(tenant: Any, api_key_factory: Callable[..., str]) -> Client:
    return _client(api_key_factory(tenant, ["read", "alerts"]))


def test_rule_crud_with_scopes_and_audit(
    tenant: Any, writer: Client, api_key_factory: Callable[..., str]
) -> None:
    reader = _client(api_key_factory(tenant, ["read"]))
    denied = _post(reader, "/api/v1/alerts/rules", RULE)
    assert denied.status_code == 403 and "alerts" in denied.json()["error"]

    created = _post(writer, "/api/v1/alerts/rules", RULE)
    assert created.status_code == 201, created.content
    rule_id = created.json()["id"]
    assert reader.get("/api/v1/alerts/rules").json()[0]["name"] == "p95 too slow"

    changed = writer.patch(
        f"/api/v1/alerts/rules/{rule_id}",
        data=json.dumps({"warning_threshold": 2000}),
        content_type="application/json",
    )
    assert changed.status_code == 200 and changed.json()["warning_threshold"] == 2000
    assert writer.delete(f"/api/v1/alerts/rules/{rule_id}").status_code == 204
    actions = list(
        AuditEntry.objects.filter(chain="alpha", object_type="alert_rule", object_id=str(rule_id))
        .order_by("seq")
        .values_list("action", "before", "after")
    )
    assert [a[0] for a in actions] == [
        "alerts.rule_created",
        "alerts.rule_updated",
        "alerts.rule_deleted",
    ]
    assert actions[1][1] == {"warning_threshold": 1500.0}
    assert actions[1][2] == {"warning_threshold": 2000.0}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {**RULE, "metric": "nope"},
        {**RULE, "warning_threshold": None, "critical_threshold": None},
        {**RULE, "critical_threshold": 100},  # not beyond the warning level
        {**RULE, "window_minutes": 0},
        {**RULE, "window_minutes": "ten"},
        {**RULE, "channels": [999999]},
        {**RULE, "channels": "x"},
        {**RULE, "split_by": "tenant"},
        {**RULE, "name": "x" * 500},
        {**RULE, "warning_threshold": "NaN"},
        [1, 2],
        "garbage",
    ],
)
def test_bad_rule_input_is_a_400_naming_the_field(writer: Client, body: Any) -> None:
    response = _post(writer, "/api/v1/alerts/rules", body)
    assert response.status_code == 400, response.content
    assert response.json()["error"]


def test_bad_ids_are_404s(writer: Client) -> None:
    for path in ("rules/abc", "rules/0", "rules/99999999999999999999", "incidents/-1"):
        assert writer.get(f"/api/v1/alerts/{path}").status_code == 404
    assert writer.get("/api/v1/alerts/incidents?status=bogus").status_code == 400


def test_other_tenants_key_sees_nothing(
    tenant: Any, other_tenant: Any, writer: Client, api_key_factory: Callable[..., str]
) -> None:
    rule_id = _post(writer, "/api/v1/alerts/rules", RULE).json()["id"]
    with tenant_context(tenant):
        rule = AlertRule.objects.get(pk=rule_id)
        incident = Incident.objects.create(
            rule=rule,
            rule_name=rule.name,
            metric=rule.metric,
            severity="warning",
            opened_at=datetime.now(tz=UTC),
        )
    other = _client(api_key_factory(other_tenant, ["read", "alerts", "budget"]))
    assert other.get(f"/api/v1/alerts/rules/{rule_id}").status_code == 404
    assert other.delete(f"/api/v1/alerts/rules/{rule_id}").status_code == 404
    assert other.get("/api/v1/alerts/rules").json() == []
    assert other.get(f"/api/v1/alerts/incidents/{incident.pk}").status_code == 404
    assert (
        _post(other, f"/api/v1/alerts/incidents/{incident.pk}/acknowledge", {}).status_code == 404
    )
    assert other.get("/api/v1/alerts/incidents").json() == []
    with tenant_context(tenant):
        assert AlertRule.objects.filter(pk=rule_id).exists()


def test_acknowledge_and_resolve_through_the_api(tenant: Any, writer: Client) -> None:
    rule_id = _post(writer, "/api/v1/alerts/rules", RULE).json()["id"]
    with tenant_context(tenant):
        incident = Incident.objects.create(
            rule_id=rule_id,
            rule_name="p95 too slow",
            metric="latency_p95",
            severity="warning",
            opened_at=datetime.now(tz=UTC),
        )
    path = f"/api/v1/alerts/incidents/{incident.pk}"
    acked = _post(writer, f"{path}/acknowledge", {})
    assert acked.status_code == 200 and acked.json()["status"] == "acknowledged"
    assert _post(writer, f"{path}/acknowledge", {}).status_code == 400  # not open any more
    resolved = _post(writer, f"{path}/resolve", {"note": "deployed fix"})
    assert resolved.json()["status"] == "resolved" and resolved.json()["resolution"] == "manual"
    assert writer.get("/api/v1/alerts/incidents?status=active").json() == []
    actions = set(
        AuditEntry.objects.filter(chain="alpha", object_type="incident").values_list(
            "action", flat=True
        )
    )
    assert {"alerts.incident_acknowledged", "alerts.incident_resolved"} <= actions


def test_budget_check_denies_at_the_cap_and_allows_once_raised(
    tenant: Any,
    api_key_factory: Callable[..., str],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    client = _client(api_key_factory(tenant, ["budget"]))
    check = "/api/v1/budget/check"
    assert _post(client, check, {}).json()["decision"] == "allow"  # no budget: allow
    with tenant_context(tenant), django_capture_on_commit_callbacks(execute=True):
        budget_set(daily_usd="1.00", monthly_usd="100", hard_cap=True)
    first = _post(client, check, {"feature": "chat"}).json()
    assert first["decision"] == "allow" and Decimal(first["remaining_usd"]) == Decimal("1")

    now = datetime.now(tz=UTC)
    with tenant_context(tenant):
        events_insert([event_build(timestamp=now, cost_usd=Decimal("0.6")) for _ in range(2)])
    denied = _post(client, check, {"feature": "chat"}).json()
    assert denied["decision"] == "deny" and denied["allowed"] is False
    assert Decimal(denied["remaining_usd"]) == 0 and "daily" in denied["reason"]

    with tenant_context(tenant), django_capture_on_commit_callbacks(execute=True):
        budget_set(daily_usd="5.00", monthly_usd="100", hard_cap=True)
    allowed = _post(client, check, {"feature": "chat"}).json()
    assert allowed["decision"] == "allow"
    assert Decimal(allowed["remaining_usd"]) == Decimal("3.8")
    # An estimate larger than what remains is refused.
    big = _post(client, check, {"estimated_cost_usd": "4.5"}).json()
    assert big["decision"] == "deny"


def test_budget_check_is_fast_once_cached(tenant: Any, settings: Any) -> None:
    settings.VIGIL_BUDGET_REFRESH_MIN_S = 2.0
    with tenant_context(tenant):
        budget_set(daily_usd="10", hard_cap=True)
        budget_check()  # warms the caches
        timings = []
        for _ in range(50):
            started = time.perf_counter()
            assert budget_check().allowed
            timings.append(time.perf_counter() - started)
    timings.sort()
    assert timings[len(timings) // 2] < 0.010  # median well under 10 ms


def test_budget_check_needs_the_budget_scope(
    tenant: Any, api_key_factory: Callable[..., str]
) -> None:
    client = _client(api_key_factory(tenant, ["read"]))
    response = _post(client, "/api/v1/budget/check", {})
    assert response.status_code == 403 and "budget" in response.json()["error"]
    bad = _post(
        _client(api_key_factory(tenant, ["budget"])),
        "/api/v1/budget/check",
        {"estimated_cost_usd": "lots"},
    )
    assert bad.status_code == 400


def test_list_endpoints_do_not_grow_queries_with_rows(tenant: Any, writer: Client) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from alerts.channels.services import channel_create

    def counts() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as rules:
            assert writer.get("/api/v1/alerts/rules").status_code == 200
        with CaptureQueriesContext(connection) as incidents:
            assert writer.get("/api/v1/alerts/incidents").status_code == 200
        return len(rules), len(incidents)

    def add(n: int) -> None:
        with tenant_context(tenant):
            channel = channel_create(name=f"c{n}", kind="email", target="x@alpha.test")
            for i in range(n):
                rule_id = _post(
                    writer,
                    "/api/v1/alerts/rules",
                    {**RULE, "name": f"r{n}-{i}", "channels": [channel.pk]},
                ).json()["id"]
                Incident.objects.create(
                    rule_id=rule_id,
                    rule_name="r",
                    metric="error_rate",
                    severity="warning",
                    opened_at=datetime.now(tz=UTC),
                )

    add(2)
    few = counts()
    add(6)
    assert counts() == few
