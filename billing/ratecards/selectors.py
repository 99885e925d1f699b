"""Reads of rate cards."""

from __future__ import annotations

from datetime import date

from django.db.models import QuerySet

from billing.ratecards.models import RateCard
from billing.ratecards.rating import card_for_day
from tenants.models import Tenant


def rate_cards_of(*, tenant: Tenant) -> QuerySet[RateCard]:
    """Every version of the tenant's card, newest first."""
    return RateCard.objects.filter(tenant=tenant).order_by("-version")


def rate_card_in_force(*, tenant: Tenant, day: date) -> RateCard | None:
    return card_for_day(list(rate_cards_of(tenant=tenant)), day)


def rate_card_snapshot(card: RateCard) -> dict[str, object]:
    """What a closed statement keeps of a card (the card row itself is immutable too)."""
    return {
        "version": card.version,
        "effective_from": card.effective_from.isoformat(),
        "mode": card.mode,
        "markup_percent": str(card.markup_percent),
        "prices": card.prices,
        "included_usd": str(card.included_usd),
        "minimum_usd": str(card.minimum_usd),
        "currency": card.currency,
    }
