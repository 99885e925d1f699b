"""Writes for pricing: per-tenant price overrides and re-pricing stored events."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django_tenants.utils import tenant_context

from compliance.services import audit_record
from core.exceptions import ApplicationError
from metrics.models import CostSource, Event
from metrics.pricing.lookup import canonical_model, normalize_model
from metrics.pricing.models import PriceOverride
from metrics.pricing.selectors import price_book_current
from metrics.rollups.services import dirty_hours_mark
from tenants.models import Tenant

MAX_PRICE_PER_M = Decimal(100_000)
REPRICE_CHUNK = 2000


def _check_price(name: str, value: Decimal | None, errors: dict[str, str]) -> None:
    if value is not None and not (0 <= value <= MAX_PRICE_PER_M):
        errors[name] = f"must be between 0 and {MAX_PRICE_PER_M} USD per million tokens."


def price_override_create(
    *,
    tenant: Tenant,
    model: str,
    input_per_m: Decimal,
    output_per_m: Decimal,
    effective_from: date,
    cached_input_per_m: Decimal | None = None,
    effective_to: date | None = None,
    note: str = "",
) -> PriceOverride:
    """A negotiated price for `model` in `tenant`; it wins over the table in its period."""
    model = " ".join(model.split())
    errors: dict[str, str] = {}
    if not model or len(model) > 128:
        errors["model"] = "Name the model (at most 128 characters)."
    _check_price("input_per_m", input_per_m, errors)
    _check_price("output_per_m", output_per_m, errors)
    _check_price("cached_input_per_m", cached_input_per_m, errors)
    if effective_to is not None and effective_to < effective_from:
        errors["effective_to"] = "must not be before effective_from."
    if errors:
        raise ApplicationError("The price override is not valid.", details=errors)
    key = canonical_model(model) or normalize_model(model)
    with tenant_context(tenant), transaction.atomic():
        for other in PriceOverride.objects.select_for_update().order_by("pk"):
            if (canonical_model(other.model) or normalize_model(other.model)) != key:
                continue
            other_to = other.effective_to or date.max
            mine_to = effective_to or date.max
            if other.effective_from <= mine_to and effective_from <= other_to:
                raise ApplicationError(
                    "The price override is not valid.",
                    details={
                        "effective_from": f"overlaps the override of {other.model} from "
                        f"{other.effective_from} (end it first or choose other dates)."
                    },
                )
        override = PriceOverride.objects.create(
            model=model,
            input_per_m=input_per_m,
            output_per_m=output_per_m,
            cached_input_per_m=cached_input_per_m,
            effective_from=effective_from,
            effective_to=effective_to,
            note=note[:256],
        )
        audit_record(
            tenant_slug=tenant.schema_name,
            action="price_override.create",
            object_type="price_override",
            object_id=override.pk,
            after=_override_data(override),
        )
    return override


def _override_data(override: PriceOverride) -> dict[str, Any]:
    return {
        "model": override.model,
        "input_per_m": str(override.input_per_m),
        "output_per_m": str(override.output_per_m),
        "cached_input_per_m": (
            str(override.cached_input_per_m) if override.cached_input_per_m is not None else None
        ),
        "effective_from": override.effective_from.isoformat(),
        "effective_to": override.effective_to.isoformat() if override.effective_to else None,
        "note": override.note,
    }


@dataclass(frozen=True)
class RepriceResult:
    examined: int
    changed: int
    still_unpriced: int
    hours_marked: int
    seconds: float
    complete: bool = True  # False: stopped at max_events, more events remain


def events_reprice(
    *,
    tenant: Tenant,
    since: datetime | None = None,
    all_events: bool = False,
    max_events: int | None = None,
) -> RepriceResult:
    """Price `tenant`'s unpriced events again (or every Vigil-priced event with `all_events`).

    Client-supplied costs are never touched. Changed events' hours are marked
    dirty so rollups and daily usage follow. Works in chunks, each in its own
    transaction, so a large tenant is re-priced without one huge lock. With
    `max_events` it stops after about that many (`complete` False): pages re-price
    inline up to a bound and leave the rest to the `metrics.ingest.reprice` task.
    """
    started = time.monotonic()
    sources = (
        [CostSource.UNPRICED, CostSource.PRICE_TABLE, CostSource.OVERRIDE]
        if all_events
        else [CostSource.UNPRICED]
    )
    examined = changed = unpriced = hours = 0
    complete = True
    with tenant_context(tenant):
        book = price_book_current()
        base = Event.objects.filter(cost_source__in=sources)
        if since is not None:
            base = base.filter(timestamp__gte=since)
        last_id = 0
        while True:
            limit = REPRICE_CHUNK
            if max_events is not None:
                limit = min(limit, max_events - examined)
                if limit <= 0:
                    complete = not base.filter(id__gt=last_id).exists()
                    break
            chunk = list(
                base.filter(id__gt=last_id)
                .order_by("id")
                .values_list(
                    "id", "model", "provider", "timestamp", "input_tokens", "output_tokens",
                    "cached_input_tokens", "cost_usd", "cost_source", "price_version",
                )[:limit]
            )  # fmt: skip
            if not chunk:
                break
            last_id = chunk[-1][0]
            updates, moments = [], []
            for row in chunk:
                event_id, model, provider, moment, tokens_in, tokens_out, cached = row[:7]
                priced = book.cost(
                    model=model,
                    provider=provider,
                    moment=moment,
                    input_tokens=tokens_in,
                    output_tokens=tokens_out,
                    cached_input_tokens=cached,
                )
                unpriced += priced.cost_source == CostSource.UNPRICED
                new = (priced.cost_usd, priced.cost_source, priced.price_version)
                if new != (row[7], row[8], row[9]):
                    updates.append((*new, event_id))
                    moments.append(moment)
            examined += len(chunk)
            if updates:
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.executemany(
                        "UPDATE metrics_event SET cost_usd = %s, cost_source = %s, "
                        "price_version = %s WHERE id = %s",
                        updates,
                    )
                    hours += dirty_hours_mark(hours=moments)
                changed += len(updates)
        if changed:
            audit_record(
                tenant_slug=tenant.schema_name,
                action="events.reprice",
                object_type="events",
                after={
                    "since": since.isoformat() if since else None,
                    "all_events": all_events,
                    "examined": examined,
                    "changed": changed,
                },
            )
    return RepriceResult(examined, changed, unpriced, hours, time.monotonic() - started, complete)
