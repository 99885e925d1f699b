"""Writes of rate cards: a change is always a new version, audited."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Max

from billing.ratecards.models import PricingMode, RateCard
from billing.ratecards.rating import validate_prices
from billing.ratecards.selectors import rate_card_snapshot
from billing.statements.models import Statement
from compliance.services import audit_record
from core.exceptions import ApplicationError
from tenants.models import Tenant


def _money(raw: Any, field: str, errors: dict[str, str], *, limit: int = 10**9) -> Decimal:
    try:
        value = Decimal(str(raw if raw not in (None, "") else "0"))
    except (InvalidOperation, ValueError):
        errors[field] = "Enter a number."
        return Decimal(0)
    if not value.is_finite() or value < 0 or value >= limit:
        errors[field] = f"Between 0 and {limit}."
        return Decimal(0)
    return value


def rate_card_create(
    *,
    tenant: Tenant,
    effective_from: date,
    mode: str,
    markup_percent: Any = 0,
    prices: Any = None,
    included_usd: Any = 0,
    minimum_usd: Any = 0,
    note: str = "",
    created_by: User | None = None,
) -> RateCard:
    """Add a new version of the tenant's rate card in force from `effective_from`.

    Refused when `effective_from` falls inside a closed statement's period: a
    closed period never changes.
    """
    errors: dict[str, str] = {}
    if mode not in PricingMode.values:
        errors["mode"] = "Choose pass-through, per token or per request."
    markup = _money(markup_percent, "markup_percent", errors, limit=10_000)
    included = _money(included_usd, "included_usd", errors)
    minimum = _money(minimum_usd, "minimum_usd", errors)
    prices = prices if prices is not None else {}
    if mode in PricingMode.values:
        errors.update(validate_prices(mode, prices))
    if len(note or "") > 500:
        errors["note"] = "At most 500 characters."
    if errors:
        raise ApplicationError("Invalid rate card.", details=errors)
    with transaction.atomic():
        # One writer per tenant: lock the tenant row so versions never collide.
        Tenant.objects.select_for_update().filter(pk=tenant.pk).first()
        closed_until = Statement.objects.filter(tenant=tenant).aggregate(m=Max("period_end"))["m"]
        if closed_until is not None and effective_from < closed_until:
            raise ApplicationError(
                "That period is closed.",
                details={
                    "effective_from": f"Statements are closed until {closed_until}; "
                    "a new card can start on that day or later."
                },
            )
        latest = RateCard.objects.filter(tenant=tenant).aggregate(v=Max("version"))["v"] or 0
        card = RateCard.objects.create(
            tenant=tenant,
            version=latest + 1,
            effective_from=effective_from,
            mode=mode,
            markup_percent=markup,
            prices=prices if mode != PricingMode.PASS_THROUGH else {},
            included_usd=included,
            minimum_usd=minimum,
            note=(note or "").strip(),
            created_by=created_by if created_by is not None and created_by.pk else None,
        )
        audit_record(
            tenant_slug=tenant.schema_name,
            action="billing.rate_card_created",
            object_type="rate_card",
            object_id=card.pk,
            after=rate_card_snapshot(card),
        )
    return card
