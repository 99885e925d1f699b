"""Compute a tenant's chargeback for any period from its usage (read-only).

Usage comes from metrics.selectors.billing (raw events for closing, rollups
for live pages); each day's usage is rated with the card in force that day.
Monthly allowances and minimums apply to a whole calendar month.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django_tenants.utils import tenant_context

from billing.ratecards.models import RateCard
from billing.ratecards.rating import ZERO, card_for_day, monthly_adjustments, rate, to_cents
from billing.ratecards.selectors import rate_cards_of
from metrics.selectors.billing import billable_usage
from tenants.models import Tenant

LINE_KEY = ("feature", "model", "provider", "query_type", "customer")
BREAKDOWNS = ("feature", "model", "query_type", "customer")


@dataclass
class ChargeLine:
    feature: str
    model: str
    provider: str
    query_type: str
    customer: str
    rate_card_version: int | None
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    provider_cost: Decimal = ZERO
    charged: Decimal = ZERO


@dataclass(frozen=True)
class BreakdownRow:
    key: str
    requests: int
    provider_cost: Decimal
    charged: Decimal


@dataclass
class Chargeback:
    tenant_slug: str
    start: date
    end: date  # exclusive
    lines: list[ChargeLine] = field(default_factory=list)
    cards: list[RateCard] = field(default_factory=list)
    allowance_credit: Decimal = ZERO
    minimum_topup: Decimal = ZERO
    is_full_month: bool = False

    @property
    def requests(self) -> int:
        return sum(line.requests for line in self.lines)

    @property
    def input_tokens(self) -> int:
        return sum(line.input_tokens for line in self.lines)

    @property
    def output_tokens(self) -> int:
        return sum(line.output_tokens for line in self.lines)

    @property
    def provider_cost(self) -> Decimal:
        return sum((line.provider_cost for line in self.lines), ZERO)

    @property
    def usage_charge(self) -> Decimal:
        return sum((line.charged for line in self.lines), ZERO)

    @property
    def total_charge(self) -> Decimal:
        """What is billed, to the cent."""
        return to_cents(self.usage_charge - self.allowance_credit + self.minimum_topup)

    def breakdown(self, by: str) -> list[BreakdownRow]:
        if by not in BREAKDOWNS:
            raise ValueError(f"breakdown by one of {', '.join(BREAKDOWNS)}")
        sums: dict[str, list] = defaultdict(lambda: [0, ZERO, ZERO])
        for line in self.lines:
            acc = sums[getattr(line, by)]
            acc[0] += line.requests
            acc[1] += line.provider_cost
            acc[2] += line.charged
        rows = [BreakdownRow(k, v[0], v[1], v[2]) for k, v in sums.items()]
        return sorted(rows, key=lambda r: (-r.charged, r.key))


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def month_bounds(month: date) -> tuple[date, date]:
    start = month.replace(day=1)
    days = calendar.monthrange(start.year, start.month)[1]
    return start, start + timedelta(days=days)


def chargeback_compute(
    *, tenant: Tenant, start: date, end: date, source: str = "events"
) -> Chargeback:
    """The tenant's chargeback for [start, end) (UTC days)."""
    cards = list(rate_cards_of(tenant=tenant))
    with tenant_context(tenant):
        groups = billable_usage(start=day_start(start), end=day_start(end), source=source)
    lines: dict[tuple, ChargeLine] = {}
    used: dict[int, RateCard] = {}
    for group in groups:
        day = group.bucket if isinstance(group.bucket, date) else group.bucket.date()
        card = card_for_day(cards, day)
        if card is not None:
            used[card.version] = card
        version = card.version if card is not None else None
        key = (*(getattr(group, name) for name in LINE_KEY), version)
        line = lines.get(key)
        if line is None:
            line = lines[key] = ChargeLine(*key)
        line.requests += group.requests
        line.input_tokens += group.input_tokens
        line.output_tokens += group.output_tokens
        line.cached_input_tokens += group.cached_input_tokens
        line.provider_cost += group.cost_usd
        line.charged += rate(card, group)
    result = Chargeback(
        tenant_slug=tenant.schema_name,
        start=start,
        end=end,
        lines=sorted(lines.values(), key=lambda ln: (*(getattr(ln, k) for k in LINE_KEY),)),
        cards=sorted(used.values(), key=lambda c: c.version),
    )
    month_start, month_end = month_bounds(start)
    if start == month_start and end <= month_end:
        month_card = card_for_day(cards, end - timedelta(days=1))
        allowance, topup = monthly_adjustments(month_card, result.usage_charge)
        result.allowance_credit = allowance
        result.is_full_month = end == month_end
        # The minimum is only owed for a whole month; a month in progress shows it in the forecast.
        result.minimum_topup = topup if result.is_full_month else ZERO
    return result


@dataclass(frozen=True)
class MonthToDate:
    chargeback: Chargeback
    usage_forecast: Decimal  # usage charge projected to the month's end
    total_forecast: Decimal  # what the month will bill, allowance and minimum applied


def month_to_date(*, tenant: Tenant, now: datetime | None = None) -> MonthToDate:
    """The current month so far (from the rollups) and a linear forecast to its end."""
    now = now or datetime.now(tz=UTC)
    month_start, _ = month_bounds(now.date())
    chargeback = chargeback_compute(
        tenant=tenant, start=month_start, end=now.date() + timedelta(days=1), source="rollups"
    )
    usage_forecast, total_forecast = month_forecast(
        usage_charge=chargeback.usage_charge, cards=list(rate_cards_of(tenant=tenant)), now=now
    )
    return MonthToDate(
        chargeback=chargeback, usage_forecast=usage_forecast, total_forecast=total_forecast
    )


def month_forecast(
    *, usage_charge: Decimal, cards: list[RateCard], now: datetime
) -> tuple[Decimal, Decimal]:
    """(usage charge, billed total) projected linearly to the end of `now`'s month."""
    month_start, month_end = month_bounds(now.date())
    elapsed = (now - day_start(month_start)) / (day_start(month_end) - day_start(month_start))
    forecast = usage_charge / Decimal(str(max(elapsed, 1 / 24 / 31))) if usage_charge else ZERO
    allowance, topup = monthly_adjustments(card_for_day(cards, now.date()), forecast)
    return to_cents(forecast), to_cents(forecast - allowance + topup)
