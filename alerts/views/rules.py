"""Rule pages: list, the create/edit form with its live preview, delete."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from alerts.evaluation.series import NO_SERIES, metric_series
from alerts.rules import selectors
from alerts.rules.models import (
    SCOPE_DIMENSIONS,
    AlertRule,
    Comparison,
    Metric,
    NoData,
    SplitBy,
)
from alerts.rules.services import (
    RULE_FIELDS,
    alert_rule_create,
    alert_rule_delete,
    alert_rule_update,
    rule_clean,
)
from alerts.views.common import chart_data, get_or_404
from core.exceptions import ApplicationError
from core.roles import tenant_page
from core.views_helpers import form_errors_from, render_page

FORM_METRICS = [
    (v, label)
    for v, label in Metric.choices
    if v not in ("budget_used", "monthly_forecast", "slo_burn")
]
PREVIEW_HOURS = {"6": 6, "24": 24, "48": 48}


def _form_data(request: HttpRequest) -> dict[str, Any]:
    data: dict[str, Any] = {f: request.POST.get(f, "") for f in RULE_FIELDS if f != "enabled"}
    data["enabled"] = request.POST.get("enabled") in ("on", "1", "true")
    return data


def _channel_ids(request: HttpRequest) -> list[int]:
    return [int(v) for v in request.POST.getlist("channels") if v.isdigit()][:50]


def _context(
    rule: AlertRule | None, data: dict[str, Any], errors: dict[str, str], chosen: list[int]
) -> dict[str, Any]:
    return {
        "rule": rule,
        "data": data,
        "errors": errors,
        "metrics": FORM_METRICS
        if not (rule and (rule.budget_id or rule.slo_id))
        else Metric.choices,
        "comparisons": Comparison.choices,
        "no_data_choices": NoData.choices,
        "splits": SplitBy.choices,
        "dimensions": SCOPE_DIMENSIONS,
        "channels": list(selectors.channel_list()),
        "chosen": chosen,
    }


@tenant_page("dashboard")
@require_GET
def rule_list(request: HttpRequest) -> HttpResponse:
    context = {"rules": list(selectors.rule_list())}
    return render_page(request, "alerts/rules.html", "alerts/_rules.html", context)


@tenant_page("settings")
@require_http_methods(["GET", "POST"])
def rule_form(request: HttpRequest, rule_id: str | None = None) -> HttpResponse:
    rule = get_or_404(AlertRule, rule_id) if rule_id is not None else None
    if request.method == "POST":
        data = _form_data(request)
        chosen = _channel_ids(request)
        try:
            if rule is None:
                rule = alert_rule_create(data=data, channel_ids=chosen)
                messages.success(request, f"Rule “{rule.name}” created.")
            else:
                alert_rule_update(rule=rule, data=data, channel_ids=chosen)
                messages.success(request, "Rule saved.")
            return redirect("alerts-rules")
        except ApplicationError as exc:
            context = _context(rule, data, form_errors_from(exc), chosen)
            return render_page(request, "alerts/rule_form.html", "alerts/_rule_form.html", context)
    if rule is not None:
        data = {f: getattr(rule, f) for f in RULE_FIELDS}
        chosen = [c.pk for c in rule.channels.all()]
    else:
        data = {
            "window_minutes": 15,
            "comparison": "gt",
            "for_evaluations": 3,
            "min_samples": 20,
            "no_data": "ok",
            "repeat_minutes": 240,
            "hysteresis_pct": 10,
            "enabled": True,
            "metric": "latency_p95",
        }
        chosen = []
    return render_page(
        request, "alerts/rule_form.html", "alerts/_rule_form.html", _context(rule, data, {}, chosen)
    )


@tenant_page("dashboard")
@require_GET
def rule_preview(request: HttpRequest) -> HttpResponse:
    """htmx: the metric's recent values against the thresholds being typed."""
    raw = {f: request.GET.get(f, "") for f in RULE_FIELDS}
    raw["name"] = raw.get("name") or "preview"
    errors: dict[str, str] = {}
    chart: dict[str, Any] | None = None
    try:
        clean = rule_clean(raw)
    except ApplicationError as exc:
        errors = form_errors_from(exc)
        errors.pop("warning_threshold", None)
        clean = None
    hours = PREVIEW_HOURS.get(request.GET.get("hours", "6"), 6)
    if clean is not None and clean["metric"] not in NO_SERIES:
        now = datetime.now(tz=UTC)
        scope = {d: clean[d] for d in SCOPE_DIMENSIONS if clean[d]}
        series = metric_series(
            metric=clean["metric"],
            scope=scope,
            split_by=clean["split_by"],
            window_minutes=clean["window_minutes"],
            start=now - timedelta(hours=hours),
            end=now,
        )
        chart = chart_data(
            series, warning=clean["warning_threshold"], critical=clean["critical_threshold"]
        )
    context = {
        "chart": chart,
        "errors": errors,
        "hours": hours,
        "no_series": clean is not None and clean["metric"] in NO_SERIES,
    }
    return render_page(request, "alerts/_rule_preview.html", "alerts/_rule_preview.html", context)


@tenant_page("settings", write=True)
@require_POST
def rule_delete(request: HttpRequest, rule_id: str) -> HttpResponse:
    rule = get_or_404(AlertRule, rule_id)
    alert_rule_delete(rule=rule)
    messages.success(request, f"Rule “{rule.name}” deleted.")
    return redirect("alerts-rules")
