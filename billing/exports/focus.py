"""Rows in FinOps FOCUS (1.1) columns, plus Vigil's own as x_ custom columns.

A statement becomes one row per line (usage) and one per monthly adjustment
(allowance credit, minimum top-up); raw cost lines are one row per LLM call,
rated under the card in force that day. BilledCost sums to the statement's
charge; x_ProviderCost to what the providers charged.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from billing.ratecards.models import RateCard
from billing.ratecards.rating import card_for_day, rate
from billing.statements.models import Statement, StatementLine

FOCUS_COLUMNS = (
    "BillingAccountId",
    "BillingAccountName",
    "SubAccountId",
    "BillingCurrency",
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "BilledCost",
    "EffectiveCost",
    "ListCost",
    "ContractedCost",
    "ConsumedQuantity",
    "ConsumedUnit",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "InvoiceIssuerName",
    "ServiceCategory",
    "ServiceName",
    "ResourceId",
    "ResourceName",
    "ResourceType",
    "SkuId",
    "Tags",
    "x_Feature",
    "x_Model",
    "x_QueryType",
    "x_Customer",
    "x_Requests",
    "x_InputTokens",
    "x_OutputTokens",
    "x_CachedInputTokens",
    "x_ProviderCost",
    "x_RateCardVersion",
    "x_EventId",
)
SERVICE_NAME = "Vigil LLM usage"
SERVICE_CATEGORY = "AI and Machine Learning"


def _iso(moment: date | datetime) -> str:
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment, time.min, tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _base(tenant_slug: str, tenant_name: str, start: date, end: date) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(FOCUS_COLUMNS, "")
    row.update(
        BillingAccountId=tenant_slug,
        BillingAccountName=tenant_name,
        SubAccountId=tenant_slug,
        BillingCurrency="USD",
        BillingPeriodStart=_iso(start),
        BillingPeriodEnd=_iso(end),
        ProviderName="Vigil",
        InvoiceIssuerName="Vigil",
        ServiceCategory=SERVICE_CATEGORY,
        ServiceName=SERVICE_NAME,
    )
    return row


def _usage(row: dict[str, Any], data: Any, *, charged: Decimal, cost: Decimal) -> dict[str, Any]:
    tokens = data.input_tokens + data.output_tokens
    row.update(
        ChargeCategory="Usage",
        ChargeFrequency="Usage-Based",
        ChargeDescription=f"{data.feature} on {data.model}",
        BilledCost=charged,
        EffectiveCost=charged,
        ListCost=charged,
        ContractedCost=charged,
        ConsumedQuantity=tokens,
        ConsumedUnit="Tokens",
        PricingQuantity=data.requests if hasattr(data, "requests") else 1,
        PricingUnit="Requests",
        PublisherName=data.provider,
        ResourceId=data.model,
        ResourceName=data.model,
        ResourceType="LLM model",
        SkuId=data.model,
        Tags=json.dumps(
            {"customer": data.customer, "feature": data.feature, "query_type": data.query_type}
        ),
        x_Feature=data.feature,
        x_Model=data.model,
        x_QueryType=data.query_type,
        x_Customer=data.customer,
        x_InputTokens=data.input_tokens,
        x_OutputTokens=data.output_tokens,
        x_CachedInputTokens=data.cached_input_tokens,
        x_ProviderCost=cost,
    )
    return row


def statement_rows(statement: Statement, lines: Iterator[StatementLine]) -> Iterator[dict]:
    slug, name = statement.tenant.schema_name, statement.tenant.name
    start, end = statement.period_start, statement.period_end
    for line in lines:
        row = _base(slug, name, start, end)
        row.update(ChargePeriodStart=_iso(start), ChargePeriodEnd=_iso(end))
        _usage(row, line, charged=line.charged, cost=line.provider_cost)
        row.update(x_Requests=line.requests, x_RateCardVersion=line.rate_card_version or "")
        yield row
    for category, amount, text in (
        ("Credit", -statement.allowance_credit, "Included monthly allowance"),
        ("Adjustment", statement.minimum_topup, "Monthly minimum top-up"),
    ):
        if amount:
            row = _base(slug, name, start, end)
            row.update(
                ChargePeriodStart=_iso(start),
                ChargePeriodEnd=_iso(end),
                ChargeCategory=category,
                ChargeFrequency="Recurring",
                ChargeDescription=text,
                BilledCost=amount,
                EffectiveCost=amount,
                ListCost=amount,
                ContractedCost=amount,
                x_ProviderCost=Decimal(0),
            )
            yield row


class _EventUsage:
    """An event seen as one request of usage (what `rate` takes)."""

    requests = 1

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


def cost_line_rows(
    *,
    tenant_slug: str,
    tenant_name: str,
    start: date,
    end: date,
    lines: Iterator[dict],
    cards: list[RateCard],
) -> Iterator[dict]:
    """One FOCUS row per raw event, charged under the card in force on its day."""
    base = _base(tenant_slug, tenant_name, start, end)
    hours: dict[datetime, tuple[str, str, RateCard | None]] = {}
    for values in lines:
        event = _EventUsage(values)
        ts: datetime = values["timestamp"]
        hour = ts.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        known = hours.get(hour)
        if known is None:  # events come in time order: a handful of hours at a time
            if len(hours) > 1000:
                hours.clear()
            known = hours[hour] = (
                _iso(hour),
                _iso(hour + timedelta(hours=1)),
                card_for_day(cards, hour.date()),
            )
        period_start, period_end, card = known
        charged = rate(card, event)  # type: ignore[arg-type]
        row = dict(base)
        row["ChargePeriodStart"] = period_start
        row["ChargePeriodEnd"] = period_end
        _usage(row, event, charged=charged, cost=values["cost_usd"])
        row["PricingQuantity"] = 1
        row["x_Requests"] = 1
        row["x_RateCardVersion"] = card.version if card else ""
        row["x_EventId"] = values["event_id"]
        yield row
