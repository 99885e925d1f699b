"""Close a month into an immutable statement."""

from __future__ import annotations

from datetime import UTC, date, datetime

from django.db import IntegrityError, transaction

from billing.ratecards.selectors import rate_card_snapshot
from billing.statements.compute import chargeback_compute, month_bounds
from billing.statements.models import Statement, StatementLine
from compliance.services import audit_record
from core.exceptions import ApplicationError
from core.request_context import current_context
from tenants.models import Tenant


def statement_close(*, tenant: Tenant, month: date, now: datetime | None = None) -> Statement:
    """Snapshot `month` of `tenant` from its raw events; closing twice returns the first one.

    Only a month that has ended can close. Lines and totals are computed under
    the rate cards in force on each day and written once, with the cards used.
    """
    start, end = month_bounds(month)
    today = (now or datetime.now(tz=UTC)).date()
    if end > today:
        raise ApplicationError(
            "The month has not ended.", details={"month": f"{start:%Y-%m} closes on {end}."}
        )
    existing = Statement.objects.filter(tenant=tenant, period_start=start, period_end=end).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            # Serialises with rate_card_create (same lock): no card can appear inside the
            # period between computing the lines and writing the snapshot.
            Tenant.objects.select_for_update().filter(pk=tenant.pk).first()
            done = Statement.objects.filter(tenant=tenant, period_start=start, period_end=end)
            if done.exists():  # closed by another worker while we waited for the lock
                return done.get()
            chargeback = chargeback_compute(tenant=tenant, start=start, end=end, source="events")
            statement = Statement.objects.create(
                tenant=tenant,
                period_start=start,
                period_end=end,
                requests=chargeback.requests,
                input_tokens=chargeback.input_tokens,
                output_tokens=chargeback.output_tokens,
                provider_cost=chargeback.provider_cost,
                usage_charge=chargeback.usage_charge,
                allowance_credit=chargeback.allowance_credit,
                minimum_topup=chargeback.minimum_topup,
                total_charge=chargeback.total_charge,
                rate_cards=[rate_card_snapshot(card) for card in chargeback.cards],
                closed_at=now or datetime.now(tz=UTC),
                closed_by=current_context().actor_label or "system",
            )
            StatementLine.objects.bulk_create(
                [
                    StatementLine(
                        statement=statement,
                        feature=line.feature,
                        model=line.model,
                        provider=line.provider,
                        query_type=line.query_type,
                        customer=line.customer,
                        rate_card_version=line.rate_card_version,
                        requests=line.requests,
                        input_tokens=line.input_tokens,
                        output_tokens=line.output_tokens,
                        cached_input_tokens=line.cached_input_tokens,
                        provider_cost=line.provider_cost,
                        charged=line.charged,
                    )
                    for line in chargeback.lines
                ],
                batch_size=1000,
            )
            audit_record(
                tenant_slug=tenant.schema_name,
                action="billing.statement_closed",
                object_type="statement",
                object_id=statement.pk,
                after={
                    "period_start": start,
                    "period_end": end,
                    "provider_cost": statement.provider_cost,
                    "total_charge": statement.total_charge,
                    "lines": len(chargeback.lines),
                },
            )
    except IntegrityError:  # closed concurrently by another worker: theirs stands
        return Statement.objects.get(tenant=tenant, period_start=start, period_end=end)
    return statement
