"""Reads for pricing: the price book of the current tenant, unpriced models, overrides."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Count, Max, Min, QuerySet

from metrics.models import CostSource, Event
from metrics.pricing.lookup import Price, canonical_model, normalize_model, table_price
from metrics.pricing.models import PriceOverride


@dataclass(frozen=True)
class PricedCost:
    cost_usd: Decimal
    cost_source: str
    price_version: str


UNPRICED = PricedCost(Decimal(0), CostSource.UNPRICED, "")


class PriceBook:
    """The tenant's overrides on top of the shipped table, loaded once per batch."""

    def __init__(self, overrides: list[PriceOverride]) -> None:
        self._overrides: dict[str, list[tuple[date, date | None, Price]]] = defaultdict(list)
        for override in overrides:
            price = Price(
                key=override.model,
                since=override.effective_from,
                input_per_m=override.input_per_m,
                output_per_m=override.output_per_m,
                cached_input_per_m=(
                    override.cached_input_per_m
                    if override.cached_input_per_m is not None
                    else override.input_per_m
                ),
                version=f"override-{override.pk}:{override.model}@{override.effective_from}",
            )
            entry = (override.effective_from, override.effective_to, price)
            self._overrides[self._key(override.model)].append(entry)
        for entries in self._overrides.values():
            entries.sort(key=lambda item: item[0])

    @staticmethod
    def _key(model: str, provider: str = "") -> str:
        return canonical_model(model, provider) or normalize_model(model)

    def price(self, *, model: str, provider: str, day: date) -> tuple[Price | None, str]:
        """The price in effect on `day` and its source (override wins over the table)."""
        if self._overrides:
            found = None
            for since, until, price in self._overrides.get(self._key(model, provider), ()):
                if since <= day and (until is None or day <= until):
                    found = price
            if found is not None:
                return found, CostSource.OVERRIDE
        table = table_price(model, provider, day)
        return (table, CostSource.PRICE_TABLE) if table is not None else (None, CostSource.UNPRICED)

    def cost(
        self,
        *,
        model: str,
        provider: str,
        moment: datetime,
        input_tokens: int,
        output_tokens: int,
        cached_input_tokens: int,
    ) -> PricedCost:
        price, source = self.price(model=model, provider=provider, day=moment.date())
        if price is None:
            return UNPRICED
        cost = price.cost(
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cached_input_tokens=cached_input_tokens,
        )
        return PricedCost(cost, source, price.version)


def price_book_current() -> PriceBook:
    """The price book of the tenant the connection is in (one query)."""
    return PriceBook(list(PriceOverride.objects.all()))


def price_overrides_list() -> QuerySet[PriceOverride]:
    return PriceOverride.objects.order_by("model", "-effective_from")


@dataclass(frozen=True)
class UnpricedModel:
    model: str
    provider: str
    events: int
    first_seen: datetime
    last_seen: datetime


def unpriced_models_list() -> list[UnpricedModel]:
    """Models whose events Vigil could not price (current tenant), most events first."""
    rows = (
        Event.objects.filter(cost_source=CostSource.UNPRICED)
        .values("model", "provider")
        .annotate(events=Count("id"), first_seen=Min("timestamp"), last_seen=Max("timestamp"))
        .order_by("-events", "model")
    )
    return [UnpricedModel(**row) for row in rows]
