"""Done-when: a month of demo traffic closes into a statement equal to the raw events'
cost under the rate card, exported in all three formats; and the close command."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.core.management import CommandError, call_command
from django_tenants.utils import tenant_context
from openpyxl import load_workbook

from billing.exports.services import statement_export
from billing.models import RateCard, Statement
from billing.ratecards.services import rate_card_create
from billing.statements.compute import chargeback_compute
from metrics.demo_scenario import DemoScenario
from metrics.demo_traffic import events_insert
from metrics.models import Event
from metrics.selectors.billing import cost_lines

M = Decimal(1_000_000)
PRICES = {"*": {"input": "0.50", "output": "1.50", "cached_input": "0.25"}}


def _demo_month(tenant, year: int, month: int, per_day: int = 60) -> None:
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
    scenario = DemoScenario(tenant_slug=tenant.schema_name, start=start, end=end, seed=5)
    with tenant_context(tenant):
        day = start.date()
        while day < end.date():
            events_insert(scenario.events_for_day(day, per_day))
            day += timedelta(days=1)


def test_demo_month_statement_equals_raw_events_under_the_rate_card(tenant):
    _demo_month(tenant, 2026, 6)
    rate_card_create(
        tenant=tenant,
        effective_from=date(2026, 6, 1),
        mode="per_token",
        prices=PRICES,
        minimum_usd="999",
    )
    rate_card_create(
        tenant=tenant,
        effective_from=date(2026, 6, 20),
        mode="pass_through",
        markup_percent="30",
        minimum_usd="50",
    )
    out = io.StringIO()
    call_command("close_statements", "--month", "2026-06", "--tenant", "alpha", stdout=out)
    statement = Statement.objects.get(tenant=tenant, period_start=date(2026, 6, 1))
    assert f"statement {statement.pk}" in out.getvalue()

    with tenant_context(tenant):
        rows = list(
            Event.objects.filter(
                timestamp__gte=datetime(2026, 6, 1, tzinfo=UTC),
                timestamp__lt=datetime(2026, 7, 1, tzinfo=UTC),
            )
        )
    assert len(rows) > 1000
    charge = Decimal(0)
    for e in rows:
        if e.timestamp.day < 20:
            uncached = max(e.input_tokens - e.cached_input_tokens, 0)
            charge += (
                uncached * Decimal("0.50")
                + e.cached_input_tokens * Decimal("0.25")
                + e.output_tokens * Decimal("1.50")
            ) / M
        else:
            charge += e.cost_usd * Decimal("1.3")
    cost = sum((e.cost_usd for e in rows), Decimal(0))
    assert statement.provider_cost == cost
    assert statement.requests == len(rows)
    assert statement.usage_charge.quantize(Decimal("0.0001")) == charge.quantize(Decimal("0.0001"))
    # Allowance and minimum come from the card in force at the month's end (v2).
    assert statement.minimum_topup > 0
    expected_total = max(charge, Decimal(50)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert statement.total_charge == expected_total

    csv_rows = list(
        csv.DictReader(
            io.StringIO("".join(statement_export(statement=statement, fmt="csv").chunks or []))
        )
    )
    json_rows = json.loads("".join(statement_export(statement=statement, fmt="json").chunks or []))[
        "rows"
    ]
    handle = statement_export(statement=statement, fmt="xlsx").handle
    assert handle is not None
    xlsx_rows = list(
        load_workbook(handle, read_only=True).worksheets[0].iter_rows(values_only=True)
    )[1:]
    billed = statement.usage_charge - statement.allowance_credit + statement.minimum_topup
    for exported in (csv_rows, json_rows):
        assert sum(Decimal(r["BilledCost"]) for r in exported) == billed
        assert sum(Decimal(r["x_ProviderCost"]) for r in exported) == cost
    assert len(xlsx_rows) == len(csv_rows)

    # Rate changes or late events after the close never change the statement.
    call_command(
        "close_statements", "--month", "2026-06", "--tenant", "alpha", stdout=io.StringIO()
    )
    assert Statement.objects.filter(tenant=tenant, period_start=date(2026, 6, 1)).count() == 1


def test_close_command_refuses_bad_input(tenant):
    for args in (
        ["--month", "2026-6x"],
        ["--tenant", "nosuch", "--month", "2026-01"],
        ["--month", "2999-01", "--tenant", "alpha"],
    ):
        with pytest.raises(CommandError):
            call_command("close_statements", *args, stdout=io.StringIO())


def test_cost_lines_pages_through_equal_timestamps(tenant):
    _demo_month(tenant, 2026, 5, per_day=5)
    start, end = datetime(2026, 5, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC)
    with tenant_context(tenant):
        Event.objects.filter(timestamp__gte=start, timestamp__lt=start + timedelta(days=3)).update(
            timestamp=start + timedelta(hours=5)
        )
        lines = list(cost_lines(start=start, end=end, chunk_size=4))
        total = Event.objects.filter(timestamp__gte=start, timestamp__lt=end).count()
    assert len(lines) == total == len({line["event_id"] for line in lines})
    assert [line["timestamp"] for line in lines] == sorted(line["timestamp"] for line in lines)
    assert (
        chargeback_compute(tenant=tenant, start=date(2026, 5, 1), end=date(2026, 6, 1)).requests
        == total
    )


def test_seed_billing_demo_is_idempotent(tenant):
    out = io.StringIO()
    call_command("seed_billing_demo", "--tenants", "alpha,nosuch", stdout=out)
    call_command("seed_billing_demo", "--tenants", "alpha", stdout=out)
    assert "nosuch: skipped" in out.getvalue()
    assert RateCard.objects.filter(tenant=tenant).count() == 1
    [statement] = Statement.objects.filter(tenant=tenant)
    # No traffic last month: the $20 allowance covers nothing, the $100 minimum is billed.
    assert statement.total_charge == Decimal("100.00") and statement.minimum_topup == Decimal(100)
