"""Statements reconcile to the raw events to the cent, and closed ones never change."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import DatabaseError, transaction

from billing.models import RateCard, Statement, StatementLine
from billing.ratecards.services import rate_card_create
from billing.statements.compute import chargeback_compute
from billing.statements.selectors import statement_breakdown
from billing.statements.services import statement_close
from compliance.models import AuditEntry
from core.exceptions import ApplicationError
from tests.billing.factories import in_month, month_of_events

NOW = datetime(2026, 11, 15, tzinfo=UTC)
M = Decimal(1_000_000)


def cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def test_pass_through_statement_reconciles_to_raw_events(tenant):
    events = month_of_events(tenant, year=2026, month=10)
    rate_card_create(
        tenant=tenant, effective_from=date(2026, 1, 1), mode="pass_through", markup_percent="12.5"
    )
    statement = statement_close(tenant=tenant, month=date(2026, 10, 1), now=NOW)

    rows = in_month(events, 2026, 10)
    expected_cost = sum((e.cost_usd for e in rows), Decimal(0))
    assert statement.provider_cost == expected_cost
    assert statement.requests == len(rows)
    assert statement.total_charge == cents(expected_cost * Decimal("1.125"))
    # By feature, model, query type and customer: each to the cent.
    for by in ("feature", "model", "query_type", "customer"):
        expected: dict[str, Decimal] = defaultdict(Decimal)
        for e in rows:
            expected[getattr(e, by)] += e.cost_usd
        got = {r.key: r for r in statement_breakdown(statement=statement, by=by)}
        assert set(got) == set(expected)
        for key, cost in expected.items():
            assert got[key].provider_cost == cost
            assert cents(got[key].charged) == cents(cost * Decimal("1.125"))
    assert AuditEntry.objects.filter(
        chain="alpha", action="billing.statement_closed", object_id=str(statement.pk)
    ).exists()


def test_per_token_and_per_request_cards_by_day_with_allowance_and_minimum(tenant):
    events = month_of_events(tenant, year=2026, month=9, count=300, seed=3)
    prices = {"gpt-4o": {"input": "2.50", "output": "10"}, "*": {"input": "0.15", "output": "0.6"}}
    rate_card_create(
        tenant=tenant,
        effective_from=date(2026, 9, 1),
        mode="per_token",
        prices=prices,
        included_usd="1.00",
    )
    rate_card_create(
        tenant=tenant,
        effective_from=date(2026, 9, 16),
        mode="per_request",
        prices={"chat": "0.01", "*": "0.002"},
        included_usd="0.50",
        minimum_usd="1000",
    )
    statement = statement_close(tenant=tenant, month=date(2026, 9, 1), now=NOW)

    usage = Decimal(0)
    for e in in_month(events, 2026, 9):
        if e.timestamp.day < 16:
            p = prices.get(e.model, prices["*"])
            usage += (
                (e.input_tokens - e.cached_input_tokens) * Decimal(p["input"])
                + e.cached_input_tokens * Decimal(p["input"])
                + e.output_tokens * Decimal(p["output"])
            ) / M
        else:
            usage += Decimal("0.01") if e.feature == "chat" else Decimal("0.002")
    assert cents(statement.usage_charge) == cents(usage)
    assert statement.allowance_credit == Decimal("0.50")  # the card in force at the month's end
    expected_total = max(usage - Decimal("0.50"), Decimal(1000))
    assert statement.total_charge == cents(expected_total)
    assert {line.rate_card_version for line in statement.lines.all()} == {1, 2}
    assert [c["version"] for c in statement.rate_cards] == [1, 2]


def test_closed_statement_is_immutable_and_rate_changes_never_reach_it(tenant):
    month_of_events(tenant, year=2026, month=8, count=50, seed=5)
    rate_card_create(tenant=tenant, effective_from=date(2026, 1, 1), mode="pass_through")
    statement = statement_close(tenant=tenant, month=date(2026, 8, 1), now=NOW)
    total = statement.total_charge

    with pytest.raises(ApplicationError) as err:
        rate_card_create(
            tenant=tenant,
            effective_from=date(2026, 8, 20),
            mode="pass_through",
            markup_percent="50",
        )
    assert "effective_from" in err.value.details
    rate_card_create(
        tenant=tenant, effective_from=date(2026, 9, 1), mode="pass_through", markup_percent="50"
    )
    # Closing again returns the snapshot, unchanged.
    again = statement_close(tenant=tenant, month=date(2026, 8, 1), now=NOW)
    assert again.pk == statement.pk and again.total_charge == total

    for stmt in (
        lambda: Statement.objects.filter(pk=statement.pk).update(total_charge=0),
        lambda: StatementLine.objects.filter(statement=statement).delete(),
        lambda: StatementLine.objects.filter(statement=statement).update(charged=0),
        lambda: RateCard.objects.filter(tenant=tenant).update(markup_percent=1),
    ):
        with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
            stmt()


def test_open_month_cannot_close_and_bad_cards_are_refused(tenant):
    with pytest.raises(ApplicationError):
        statement_close(tenant=tenant, month=date(2026, 11, 1), now=NOW)
    for kwargs in (
        {"mode": "nope"},
        {"mode": "pass_through", "markup_percent": "abc"},
        {"mode": "pass_through", "markup_percent": "NaN"},
        {"mode": "per_token", "prices": {}},
        {"mode": "per_token", "prices": {"m": {"input": "x"}}},
        {"mode": "per_token", "prices": {"m": {"bogus": "1"}}},
        {"mode": "per_request", "prices": {"chat": "-1"}},
        {"mode": "per_request", "prices": ["chat"]},
    ):
        with pytest.raises(ApplicationError):
            rate_card_create(tenant=tenant, effective_from=date(2026, 1, 1), **kwargs)


def test_chargeback_of_any_period_and_other_tenant_isolated(tenant, other_tenant):
    events = month_of_events(tenant, year=2026, month=7, count=80, seed=9)
    month_of_events(other_tenant, year=2026, month=7, count=30, seed=10)
    result = chargeback_compute(tenant=tenant, start=date(2026, 7, 10), end=date(2026, 7, 20))
    rows = [e for e in events if date(2026, 7, 10) <= e.timestamp.date() < date(2026, 7, 20)]
    assert result.provider_cost == sum((e.cost_usd for e in rows), Decimal(0))
    assert result.usage_charge == result.provider_cost  # no card: pass-through at cost
    assert result.requests == len(rows)
