"""Reads of closed statements."""

from __future__ import annotations

from django.db.models import QuerySet, Sum
from django.http import Http404

from billing.statements.compute import BREAKDOWNS, BreakdownRow
from billing.statements.models import Statement, StatementLine
from tenants.models import Tenant


def statements_of(*, tenant: Tenant) -> QuerySet[Statement]:
    return Statement.objects.filter(tenant=tenant).order_by("-period_start")


def statement_get(*, tenant: Tenant, statement_id: int | str) -> Statement:
    """The one lookup for a statement named in a URL: 404 unless it is this tenant's."""
    if not str(statement_id).isdigit() or int(statement_id) > 2**62:
        raise Http404("No such statement.")
    statement = Statement.objects.filter(tenant=tenant, pk=int(statement_id)).first()
    if statement is None:
        raise Http404("No such statement.")
    return statement


def statements_all_tenants(*, limit: int = 200) -> QuerySet[Statement]:
    return Statement.objects.select_related("tenant").order_by("-period_start", "tenant__name")[
        :limit
    ]


def statement_lines(*, statement: Statement) -> QuerySet[StatementLine]:
    return StatementLine.objects.filter(statement=statement).order_by(
        "feature", "model", "query_type", "customer", "id"
    )


def statement_breakdown(*, statement: Statement, by: str) -> list[BreakdownRow]:
    """Totals of a closed statement by feature, model, query type or customer."""
    if by not in BREAKDOWNS:
        raise ValueError(f"breakdown by one of {', '.join(BREAKDOWNS)}")
    rows = (
        StatementLine.objects.filter(statement=statement)
        .values(by)
        .annotate(r=Sum("requests"), c=Sum("provider_cost"), ch=Sum("charged"))
    )
    out = [BreakdownRow(row[by], row["r"] or 0, row["c"], row["ch"]) for row in rows]
    return sorted(out, key=lambda r: (-r.charged, r.key))
