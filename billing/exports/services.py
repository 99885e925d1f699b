"""Statement and raw cost-line exports (CSV, XLSX, JSON), audited, built as streams."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django_tenants.utils import tenant_context

from billing.exports.focus import FOCUS_COLUMNS, cost_line_rows, statement_rows
from billing.exports.writers import FORMATS, csv_stream, json_stream, xlsx_file
from billing.ratecards.selectors import rate_cards_of
from billing.statements.compute import day_start
from billing.statements.models import Statement
from billing.statements.selectors import statement_lines
from compliance.services import audit_record
from core.exceptions import ApplicationError
from metrics.selectors.billing import cost_lines, cost_lines_count
from tenants.models import Tenant

# openpyxl writes a few thousand rows per second: larger raw exports are CSV/JSON
# (setting BILLING_XLSX_MAX_ROWS; Excel itself stops at 1,048,576 rows).
XLSX_MAX_ROWS = 100_000


def xlsx_max_rows() -> int:
    return int(getattr(settings, "BILLING_XLSX_MAX_ROWS", XLSX_MAX_ROWS))


@dataclass(frozen=True)
class ExportFile:
    filename: str
    content_type: str
    chunks: Iterator[str] | None = None  # csv/json
    handle: IO[bytes] | None = None  # xlsx


def _check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise ApplicationError("Unknown format.", details={"format": "csv, xlsx or json"})
    return fmt


def _build(fmt: str, filename: str, header: dict[str, Any], rows: Iterator[dict]) -> ExportFile:
    if fmt == "csv":
        return ExportFile(f"{filename}.csv", FORMATS[fmt], chunks=csv_stream(FOCUS_COLUMNS, rows))
    if fmt == "json":
        return ExportFile(
            f"{filename}.json", FORMATS[fmt], chunks=json_stream(header, FOCUS_COLUMNS, rows)
        )
    handle = xlsx_file(filename, FOCUS_COLUMNS, rows)
    return ExportFile(f"{filename}.xlsx", FORMATS[fmt], handle=handle)


def statement_export(*, statement: Statement, fmt: str) -> ExportFile:
    """A closed statement in FOCUS columns; the download is audited."""
    _check_format(fmt)
    slug = statement.tenant.schema_name
    header = {
        "tenant": slug,
        "period_start": statement.period_start.isoformat(),
        "period_end": statement.period_end.isoformat(),
        "currency": statement.currency,
        "provider_cost": str(statement.provider_cost),
        "usage_charge": str(statement.usage_charge),
        "allowance_credit": str(statement.allowance_credit),
        "minimum_topup": str(statement.minimum_topup),
        "total_charge": str(statement.total_charge),
        "closed_at": statement.closed_at.isoformat(),
        "rate_cards": statement.rate_cards,
    }
    with transaction.atomic():
        audit_record(
            tenant_slug=slug,
            action="billing.statement_exported",
            object_type="statement",
            object_id=statement.pk,
            after={"format": fmt},
        )
    lines = statement_lines(statement=statement).iterator(chunk_size=2000)
    name = f"vigil-statement-{slug}-{statement.period_start:%Y-%m}"
    return _build(fmt, name, header, statement_rows(statement, lines))


def _tenant_cost_lines(tenant: Tenant, start: date, end: date) -> Iterator[dict]:
    """Raw lines read inside the tenant's schema, whenever the response is consumed."""
    with tenant_context(tenant):
        yield from cost_lines(start=day_start(start), end=day_start(end))


def cost_lines_export(*, tenant: Tenant, start: date, end: date, fmt: str) -> ExportFile:
    """Every LLM call of [start, end) as a FOCUS row, charged under the card of its day."""
    _check_format(fmt)
    if end <= start or (end - start).days > 366:
        raise ApplicationError("Invalid period.", details={"period": "One day to one year."})
    slug = tenant.schema_name
    if fmt == "xlsx":
        with tenant_context(tenant):
            rows_count = cost_lines_count(start=day_start(start), end=day_start(end))
        limit = xlsx_max_rows()
        if rows_count > limit:
            raise ApplicationError(
                "Too many cost lines for a spreadsheet.",
                details={
                    "format": f"{rows_count:,} lines: XLSX exports of raw lines stop at "
                    f"{limit:,}. Download CSV or JSON (streamed, any size) instead."
                },
                status_code=413,
            )
    with transaction.atomic():
        audit_record(
            tenant_slug=slug,
            action="billing.cost_lines_exported",
            object_type="cost_lines",
            object_id=f"{start}..{end}",
            after={"format": fmt, "start": start, "end": end},
        )
    rows = cost_line_rows(
        tenant_slug=slug,
        tenant_name=tenant.name,
        start=start,
        end=end,
        lines=_tenant_cost_lines(tenant, start, end),
        cards=list(rate_cards_of(tenant=tenant)),
    )
    header = {"tenant": slug, "period_start": start.isoformat(), "period_end": end.isoformat()}
    return _build(fmt, f"vigil-cost-lines-{slug}-{start}-{end}", header, rows)
