"""Helpers shared by the alert pages: chart JSON, user labels, lookups."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest

from alerts.evaluation.series import MetricSeries


def user_label(request: HttpRequest) -> str:
    user = request.user
    return str(getattr(user, "email", "") or getattr(user, "username", "") or "user")


def get_or_404(model: Any, pk: Any, **extra: Any) -> Any:
    """The current tenant's object (the connection is in its schema) or 404."""
    try:
        number = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    obj = model.objects.filter(pk=number, **extra).first() if 0 < number < 2**63 else None
    if obj is None:
        raise Http404
    return obj


def chart_data(
    series: MetricSeries, *, warning: float | None, critical: float | None, unit: str = ""
) -> dict[str, Any]:
    return {
        "x": [int(t.timestamp()) for t in series.times],
        "series": [
            {"label": key or "all", "values": values} for key, values in series.values.items()
        ],
        "warning": warning,
        "critical": critical,
        "unit": unit,
    }
