"""Pure rating: what a group of usage costs the tenant under a rate card.

Charges keep ten decimal places until a statement's total is rounded to the
cent (ROUND_HALF_UP), so summing lines never drifts.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

from billing.ratecards.models import PricingMode, RateCard

ZERO = Decimal("0")
MILLION = Decimal(1_000_000)
CENT = Decimal("0.01")
PRECISION = Decimal("0.0000000001")
TOKEN_KINDS = ("input", "output", "cached_input")


class Usage(Protocol):
    @property
    def feature(self) -> str: ...
    @property
    def model(self) -> str: ...
    @property
    def requests(self) -> int: ...
    @property
    def input_tokens(self) -> int: ...
    @property
    def output_tokens(self) -> int: ...
    @property
    def cached_input_tokens(self) -> int: ...
    @property
    def cost_usd(self) -> Decimal: ...


def to_cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def card_for_day(cards: Sequence[RateCard], day: date) -> RateCard | None:
    """The card in force on `day`: the highest version effective on or before it."""
    best: RateCard | None = None
    for card in cards:
        if card.effective_from <= day and (best is None or card.version > best.version):
            best = card
    return best


def _price(table: dict, key: str) -> object:
    return table.get(key, table.get("*"))


def rate(card: RateCard | None, usage: Usage) -> Decimal:
    """The charge for `usage` under `card`; no card means pass-through at cost."""
    if card is None:
        return usage.cost_usd
    markup = Decimal(1) + Decimal(card.markup_percent) / 100
    if card.mode == PricingMode.PASS_THROUGH:
        charge = usage.cost_usd * markup
    elif card.mode == PricingMode.PER_TOKEN:
        prices = _price(card.prices, usage.model)
        if not isinstance(prices, dict):  # an unpriced model falls back to cost plus markup
            charge = usage.cost_usd * markup
        else:
            uncached = max(usage.input_tokens - usage.cached_input_tokens, 0)
            cached_price = Decimal(str(prices.get("cached_input", prices.get("input", 0))))
            charge = (
                uncached * Decimal(str(prices.get("input", 0)))
                + usage.cached_input_tokens * cached_price
                + usage.output_tokens * Decimal(str(prices.get("output", 0)))
            ) / MILLION
    else:
        price = _price(card.prices, usage.feature)
        charge = usage.requests * Decimal(str(price)) if price is not None else usage.cost_usd
    return charge.quantize(PRECISION, rounding=ROUND_HALF_UP)


def monthly_adjustments(card: RateCard | None, usage_charge: Decimal) -> tuple[Decimal, Decimal]:
    """(allowance credit, minimum top-up) for a month whose usage charge is `usage_charge`."""
    if card is None:
        return ZERO, ZERO
    allowance = min(Decimal(card.included_usd), usage_charge)
    after = usage_charge - allowance
    topup = max(Decimal(card.minimum_usd) - after, ZERO)
    return allowance, topup


def validate_prices(mode: str, prices: object) -> dict[str, str]:
    """Field errors for a rate card's price table (empty when valid)."""
    if mode == PricingMode.PASS_THROUGH:
        return {}
    if not isinstance(prices, dict) or not prices:
        return {"prices": "Give at least one price (use the key * for everything else)."}
    for key, value in prices.items():
        if not isinstance(key, str) or not key or len(key) > 128:
            return {"prices": "Keys are model or feature names (or *)."}
        values = value if mode == PricingMode.PER_TOKEN else {"price": value}
        if not isinstance(values, dict) or not values:
            return {"prices": f"{key}: give input/output prices per 1M tokens."}
        for kind, raw in values.items():
            if mode == PricingMode.PER_TOKEN and kind not in TOKEN_KINDS:
                return {"prices": f"{key}: unknown price {kind!r} (input, output, cached_input)."}
            try:
                amount = Decimal(str(raw))
            except ArithmeticError:
                return {"prices": f"{key}: {raw!r} is not a number."}
            if not amount.is_finite() or amount < 0 or amount > Decimal(1_000_000):
                return {"prices": f"{key}: prices are between 0 and 1000000."}
    return {}
