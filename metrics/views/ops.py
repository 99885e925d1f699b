"""The ops console's overview (public host, staff only): every tenant side by side."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.urls import reverse

# The ops console puts every app's numbers side by side: SLA status comes from alerts
# (an import-linter exception in pyproject.toml says so).
from alerts.slo.selectors import SlaReportLine, sla_report_all_tenants
from core.roles import staff_page
from core.views_helpers import render_page
from metrics.selectors.ops import TenantMetricsRow, tenant_metrics_all_tenants

# Spend today above this share of its projection (for the elapsed part of the day) is flagged;
# DESIGN.md: budgets alert when daily spend runs 20% over the forecast.
OVER_PROJECTION = 1.2


def _projection_status(row: TenantMetricsRow) -> tuple[str, str]:
    ratio = row.spend_vs_projection
    if ratio is None:
        return "muted", "no history"
    if ratio > OVER_PROJECTION:
        return "status-bad", f"{(ratio - 1) * 100:.0f}% over"
    if ratio > 1:
        return "status-warn", f"{(ratio - 1) * 100:.0f}% over"
    return "status-ok", "on track"


def _sla_status(lines: list[SlaReportLine]) -> dict[str, object]:
    """This month's SLA standing of one tenant: every SLO met, or how many breached."""
    if not lines:
        return {"css": "muted", "label": "no SLA set", "sort": -1}
    breached = [line for line in lines if not line.met]
    if breached:
        worst = min(breached, key=lambda line: line.attained_pct or 0.0)
        return {
            "css": "status-bad",
            "label": f"{len(breached)} of {len(lines)} breached",
            "title": f"{worst.slo_name}: {worst.attained_pct or 0:.2f}% against {worst.target}",
            "sort": len(breached),
        }
    return {"css": "status-ok", "label": f"{len(lines)} met", "sort": 0}


@staff_page
def ops_overview(request: HttpRequest) -> HttpResponse:
    rows = tenant_metrics_all_tenants()
    sla_lines: dict[str, list[SlaReportLine]] = defaultdict(list)
    for line in sla_report_all_tenants(month=datetime.now(tz=UTC).date().replace(day=1)):
        sla_lines[line.tenant_slug].append(line)
    tenants = []
    for row in rows:
        css, label = _projection_status(row)
        open_url = reverse("ops:tenant-open", args=[row.slug])
        tenants.append(
            {
                "row": row,
                "projection_css": css,
                "projection_label": label,
                "url": open_url,
                **{
                    f"{page}_url": f"{open_url}?{urlencode({'next': f'/{page}/?range=24h'})}"
                    for page in ("cost", "latency", "quality", "reliability", "safety")
                },
                "sla": _sla_status(sla_lines.get(row.slug, [])),
            }
        )
    context = {
        "tenants": tenants,
        "total_today": sum((r.spend_today for r in rows), Decimal(0)),
        "total_mtd": sum((r.month_to_date for r in rows), Decimal(0)),
        "total_requests": sum(r.requests_24h for r in rows),
        "over_projection": sum(1 for t in tenants if t["projection_css"] == "status-bad"),
    }
    return render_page(request, "ops/overview.html", "ops/_overview.html", context)
