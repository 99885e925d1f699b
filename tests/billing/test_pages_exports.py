"""Billing pages and exports: figures, formats, FOCUS columns, roles and tenant isolation."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from billing.exports.focus import FOCUS_COLUMNS
from billing.models import RateCard, Statement
from billing.ratecards.services import rate_card_create
from billing.statements.services import statement_close
from compliance.models import AuditEntry
from tests.billing.factories import in_month, month_of_events

NOW = datetime(2026, 11, 15, tzinfo=UTC)


@pytest.fixture
def closed(tenant):
    events = month_of_events(tenant, year=2026, month=10, count=120, seed=31)
    rate_card_create(
        tenant=tenant,
        effective_from=date(2026, 1, 1),
        mode="pass_through",
        markup_percent="15",
        included_usd="0.10",
        minimum_usd="0",
    )
    return statement_close(tenant=tenant, month=date(2026, 10, 1), now=NOW), in_month(
        events, 2026, 10
    )


def _body(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def test_statement_exports_in_three_formats_sum_to_the_statement(
    closed, tenant, admin_user, tenant_client
):
    statement, events = closed
    client = tenant_client(tenant, admin_user)
    billed = statement.usage_charge - statement.allowance_credit + statement.minimum_topup

    response = client.get(f"/billing/statements/{statement.pk}/download/csv")
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(_body(response).decode())))
    assert tuple(rows[0].keys()) == FOCUS_COLUMNS
    assert sum(Decimal(r["BilledCost"]) for r in rows) == billed
    assert sum(Decimal(r["x_ProviderCost"]) for r in rows) == statement.provider_cost
    usage = [r for r in rows if r["ChargeCategory"] == "Usage"]
    assert sum(int(r["x_Requests"]) for r in usage) == len(events)
    assert {r["ChargeCategory"] for r in rows} == {"Usage", "Credit"}
    assert (
        rows[0]["BillingPeriodStart"] == "2026-10-01T00:00:00Z"
        and rows[0]["BillingPeriodEnd"] == "2026-11-01T00:00:00Z"
    )
    assert rows[0]["ServiceName"] and rows[0]["BillingCurrency"] == "USD"
    assert json.loads(usage[0]["Tags"]).keys() == {"feature", "query_type", "customer"}

    response = client.get(f"/billing/statements/{statement.pk}/download/json")
    data = json.loads(_body(response))
    assert data["total_charge"] == str(statement.total_charge)
    assert sum(Decimal(r["BilledCost"]) for r in data["rows"]) == billed

    response = client.get(f"/billing/statements/{statement.pk}/download/xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(_body(response)), read_only=True).worksheets[0]
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == FOCUS_COLUMNS and len(values) == len(rows) + 1
    billed_col = FOCUS_COLUMNS.index("BilledCost")
    assert abs(sum(Decimal(str(v[billed_col])) for v in values[1:]) - billed) < Decimal("0.000001")

    assert (
        AuditEntry.objects.filter(
            chain="alpha", action="billing.statement_exported", object_id=str(statement.pk)
        ).count()
        == 3
    )


def _audit_mark() -> int:
    # Committed tests (the browser test) leave audit entries behind: count only newer ones.
    return AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0


def test_raw_cost_lines_reconcile_to_events(closed, tenant, admin_user, tenant_client):
    statement, events = closed
    mark = _audit_mark()
    client = tenant_client(tenant, admin_user)
    response = client.get("/billing/cost-lines/csv?month=2026-10")
    assert response.status_code == 200 and response.streaming
    rows = list(csv.DictReader(io.StringIO(_body(response).decode())))
    assert len(rows) == len(events)
    assert {r["x_EventId"] for r in rows} == {e.event_id for e in events}
    assert sum(Decimal(r["x_ProviderCost"]) for r in rows) == statement.provider_cost
    assert abs(sum(Decimal(r["BilledCost"]) for r in rows) - statement.usage_charge) < Decimal(
        "0.00001"
    )
    first = rows[0]
    assert (
        first["ChargePeriodStart"].endswith(":00:00Z") and first["ResourceId"] == first["x_Model"]
    )
    data = json.loads(_body(client.get("/billing/cost-lines/json?month=2026-10")))
    assert len(data["rows"]) == len(events)
    sheet = load_workbook(
        io.BytesIO(_body(client.get("/billing/cost-lines/xlsx?month=2026-10"))), read_only=True
    ).worksheets[0]
    assert len(list(sheet.iter_rows(values_only=True))) == len(events) + 1
    assert (
        AuditEntry.objects.filter(
            chain="alpha", action="billing.cost_lines_exported", id__gt=mark
        ).count()
        == 3
    )


def test_billing_page_shows_month_to_date_and_statements(closed, tenant, admin_user, tenant_client):
    statement, _ = closed
    client = tenant_client(tenant, admin_user)
    response = client.get("/billing/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "October 2026" in html and f"/billing/statements/{statement.pk}/download/xlsx" in html
    assert 'href="/billing/"' in html  # nav link
    for by in ("model", "query_type", "customer", "nonsense", "<script>"):
        assert client.get("/billing/", {"by": by}).status_code == 200
    assert client.get("/billing/", HTTP_HX_REQUEST="true").status_code == 200
    detail = client.get(f"/billing/statements/{statement.pk}/")
    assert detail.status_code == 200 and f"${statement.total_charge}" in detail.content.decode()
    assert "Rate cards applied" in detail.content.decode() and "v1" in detail.content.decode()


def test_roles_bad_input_and_cross_tenant(
    closed, tenant, other_tenant, member_factory, tenant_client
):
    statement, _ = closed
    analyst = member_factory(tenant, "analyst")
    assert tenant_client(tenant, analyst).get("/billing/").status_code == 403
    assert (
        tenant_client(tenant, analyst)
        .get(f"/billing/statements/{statement.pk}/download/csv")
        .status_code
        == 403
    )
    assert tenant_client(tenant).get("/billing/").status_code == 302  # login
    beta_admin = member_factory(other_tenant, "admin")
    beta = tenant_client(other_tenant, beta_admin)
    # Beta's admin on its own host cannot reach alpha's statement by id...
    for path in (
        f"/billing/statements/{statement.pk}/",
        *(f"/billing/statements/{statement.pk}/download/{f}" for f in ("csv", "xlsx", "json")),
    ):
        assert beta.get(path).status_code == 404, path
    # ...nor use alpha's host.
    assert (
        tenant_client(tenant, beta_admin)
        .get(f"/billing/statements/{statement.pk}/download/csv")
        .status_code
        == 403
    )
    # Beta's raw lines never include alpha's events.
    rows = list(
        csv.DictReader(
            io.StringIO(_body(beta.get("/billing/cost-lines/csv?month=2026-10")).decode())
        )
    )
    assert all(r["SubAccountId"] == "beta" for r in rows)
    admin = member_factory(tenant, "admin")
    client = tenant_client(tenant, admin)
    for path in (
        "/billing/cost-lines/csv?month=2026-13",
        "/billing/cost-lines/csv?month=abc",
        "/billing/cost-lines/csv",
        "/billing/cost-lines/pdf?month=2026-10",
        f"/billing/statements/{statement.pk}/download/pdf",
        "/billing/statements/99999999999999999999/",
        "/billing/statements/0/download/csv",
    ):
        assert client.get(path).status_code == 404, path
    assert client.post("/billing/").status_code == 405


def test_ops_console(
    closed,
    tenant,
    staff_user,
    admin_user,
    public_client,
    tenant_client,
    celery_eager,
    django_capture_on_commit_callbacks,
):
    statement, _ = closed
    ops = public_client(staff_user)
    page = ops.get("/ops/billing/")
    assert page.status_code == 200 and "Alpha Corp" in page.content.decode()
    assert public_client(admin_user).get("/ops/billing/").status_code == 403
    assert tenant_client(tenant, admin_user).get("/ops/billing/").status_code == 404
    assert ops.get("/ops/billing/alpha/").status_code == 200
    assert ops.get("/ops/billing/nosuch/").status_code == 404
    assert ops.get(f"/ops/billing/alpha/statements/{statement.pk}/download/csv").status_code == 200
    assert ops.get(f"/ops/billing/beta/statements/{statement.pk}/download/csv").status_code == 404

    # Rate card form: errors in place, then a valid version.
    bad = ops.post(
        "/ops/billing/alpha/rate-cards", {"effective_from": "2026-10-05", "mode": "pass_through"}
    )
    assert bad.status_code == 200 and "closed until" in bad.content.decode()
    bad = ops.post(
        "/ops/billing/alpha/rate-cards", {"effective_from": "x", "mode": "per_token", "prices": "{"}
    )
    assert bad.status_code == 200 and RateCard.objects.filter(tenant=tenant).count() == 1
    ok = ops.post(
        "/ops/billing/alpha/rate-cards",
        {"effective_from": "2026-12-01", "mode": "per_request", "prices": '{"*": "0.001"}'},
    )
    assert ok.status_code == 200 and RateCard.objects.filter(tenant=tenant).count() == 2

    assert (
        ops.post(
            "/ops/billing/alpha/account", {"stripe_customer_id": "bad", "status": "active"}
        ).status_code
        == 200
    )
    ops.post(
        "/ops/billing/alpha/account",
        {"stripe_customer_id": "cus_opsalpha", "status": "active", "metering_enabled": "on"},
    )
    assert tenant.billing_account.stripe_customer_id == "cus_opsalpha"

    assert ops.post("/ops/billing/alpha/close", {"month": "never"}).status_code == 200
    month_of_events(tenant, year=2026, month=9, count=10, seed=32)
    with django_capture_on_commit_callbacks(execute=True):
        response = ops.post("/ops/billing/alpha/close", {"month": "2026-09"})
    assert response.status_code == 302
    assert Statement.objects.filter(tenant=tenant, period_start=date(2026, 9, 1)).exists()


def test_billing_page_queries_do_not_grow_with_statements(tenant, admin_user, tenant_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = tenant_client(tenant, admin_user)
    month_of_events(tenant, year=2026, month=1, count=5, seed=41)
    statement_close(tenant=tenant, month=date(2026, 1, 1), now=NOW)
    client.get("/billing/")
    with CaptureQueriesContext(connection) as one:
        assert client.get("/billing/").status_code == 200
    for month in (2, 3, 4):
        month_of_events(tenant, year=2026, month=month, count=5, seed=41 + month)
        statement_close(tenant=tenant, month=date(2026, month, 1), now=NOW)
    with CaptureQueriesContext(connection) as four:
        html = client.get("/billing/").content.decode()
    assert html.count("/download/csv") == 4
    assert len(four.captured_queries) == len(one.captured_queries)


def test_raw_xlsx_beyond_the_row_limit_is_refused_with_advice(
    closed, tenant, admin_user, tenant_client, settings
):
    settings.BILLING_XLSX_MAX_ROWS = 10
    mark = _audit_mark()
    client = tenant_client(tenant, admin_user)
    response = client.get("/billing/cost-lines/xlsx?month=2026-10")
    assert response.status_code == 413 and "CSV or JSON" in response.content.decode()
    assert client.get("/billing/cost-lines/csv?month=2026-10").status_code == 200
    assert not AuditEntry.objects.filter(
        chain="alpha", action="billing.cost_lines_exported", after__format="xlsx", id__gt=mark
    ).exists()


def test_any_period_on_the_page_and_in_raw_exports(closed, tenant, admin_user, tenant_client):
    from django_tenants.utils import tenant_context

    from metrics.rollups.services import dirty_hours_process

    _, events = closed
    with tenant_context(tenant):
        dirty_hours_process(max_hours=10_000, time_budget_s=120)
    client = tenant_client(tenant, admin_user)
    inside = [e for e in events if date(2026, 10, 5) <= e.timestamp.date() <= date(2026, 10, 9)]
    response = client.get(
        "/billing/", {"start": "2026-10-05", "end": "2026-10-09", "by": "customer"}
    )
    html = response.content.decode()
    assert response.status_code == 200 and "2026-10-05 to 2026-10-09" in html
    assert f"{sum((e.cost_usd for e in inside), Decimal(0)):.4f}" in html
    rows = list(
        csv.DictReader(
            io.StringIO(
                _body(
                    client.get("/billing/cost-lines/csv?start=2026-10-05&end=2026-10-09")
                ).decode()
            )
        )
    )
    assert {r["x_EventId"] for r in rows} == {e.event_id for e in inside}
    for bad in (
        {"start": "2026-10-09", "end": "2026-10-01"},
        {"start": "x", "end": ""},
        {"start": "2020-01-01", "end": "2026-01-01"},
        {"start": "9999-12-30", "end": "9999-12-31"},
        {"start": "0001-01-01", "end": "0001-01-02"},
    ):
        assert client.get("/billing/", bad).status_code == 200
        assert client.get("/billing/cost-lines/csv", bad).status_code == 404


def test_ops_overview_matches_each_tenants_month_to_date_without_entering_schemas(
    tenant, other_tenant, staff_user, public_client
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django_tenants.utils import tenant_context

    from billing.selectors import billing_overview_all_tenants
    from billing.statements.compute import month_to_date
    from metrics.demo_traffic import event_build, events_insert
    from metrics.rollups.services import dirty_hours_process

    now = datetime.now(tz=UTC)
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    rate_card_create(
        tenant=tenant,
        effective_from=date(2020, 1, 1),
        mode="per_token",
        prices={
            "gpt-4o-mini": {"input": "0.3", "output": "1.2"},
            "*": {"input": "1", "output": "2"},
        },
        minimum_usd="10",
    )
    for t, n in ((tenant, 40), (other_tenant, 15)):
        with tenant_context(t):
            events_insert(
                [
                    event_build(
                        event_id=f"ovw-{t.schema_name}-{i}",
                        timestamp=start + (now - start) * (i / n),
                        model=("gpt-4o-mini", "gpt-4o")[i % 2],
                        input_tokens=1000 + i,
                        output_tokens=300 + i,
                        cost_usd=Decimal("0.0123") * (i + 1),
                    )
                    for i in range(n)
                ]
            )
            dirty_hours_process(max_hours=10_000, time_budget_s=120)
    with CaptureQueriesContext(connection) as queries:
        rows = {r.slug: r for r in billing_overview_all_tenants(now=now)}
    # Six reads of public tables whatever the number of tenants (plus search_path resets).
    assert len([q for q in queries.captured_queries if not q["sql"].startswith("SET ")]) == 6
    for t in (tenant, other_tenant):
        mtd = month_to_date(tenant=t, now=now)
        row = rows[t.schema_name]
        assert row.provider_cost == mtd.chargeback.provider_cost
        assert row.usage_charge == mtd.chargeback.usage_charge
        assert row.total_forecast == mtd.total_forecast and row.requests == mtd.chargeback.requests
    assert rows["alpha"].total_forecast >= Decimal(10)
    html = public_client(staff_user).get("/ops/billing/").content.decode()
    assert f"${rows['alpha'].total_forecast}" in html
