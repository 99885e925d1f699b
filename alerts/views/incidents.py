"""Incident pages: the list, one incident (timeline, chart, events), acknowledge, resolve."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_POST

from alerts.incidents import selectors
from alerts.incidents.models import Incident
from alerts.incidents.services import incident_acknowledge, incident_resolve
from alerts.views.common import chart_data, get_or_404, user_label
from core.exceptions import ApplicationError
from core.roles import tenant_page
from core.views_helpers import render_page


@tenant_page("dashboard")
@require_GET
def incident_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status") or "active"
    if status not in ("active", "all", *selectors.STATUSES):
        status = "active"
    qs = selectors.incident_list(status=None if status == "all" else status)
    page_raw = request.GET.get("page", "1")
    page_number = int(page_raw) if page_raw.isdigit() and 0 < int(page_raw) < 10**6 else 1
    page = Paginator(qs, 50).get_page(page_number)
    context = {
        "page": page,
        "status": status,
        "counts": selectors.incident_counts(),
        "statuses": ["active", *selectors.STATUSES, "all"],
    }
    return render_page(request, "alerts/incidents.html", "alerts/_incidents.html", context)


@tenant_page("dashboard")
@require_GET
def incident_detail(request: HttpRequest, incident_id: str) -> HttpResponse:
    incident = get_or_404(Incident, incident_id)
    detail = selectors.incident_detail(incident=incident)
    rule = incident.rule
    chart = chart_data(
        detail.series,
        warning=rule.warning_threshold if rule else incident.threshold,
        critical=rule.critical_threshold if rule else None,
    )
    chart["marks"] = [int(incident.opened_at.timestamp())] + (
        [int(incident.resolved_at.timestamp())] if incident.resolved_at else []
    )
    context = {"detail": detail, "incident": incident, "chart": chart}
    return render_page(request, "alerts/incident.html", "alerts/_incident.html", context)


@tenant_page("dashboard", write=True)
@require_POST
def incident_action(request: HttpRequest, incident_id: str, action: str) -> HttpResponse:
    if action not in ("acknowledge", "resolve"):
        raise Http404
    incident = get_or_404(Incident, incident_id)
    try:
        if action == "acknowledge":
            incident_acknowledge(incident=incident, by=user_label(request))
            messages.success(request, "Acknowledged.")
        else:
            note = request.POST.get("note", "")[:300]
            incident_resolve(incident=incident, by=user_label(request), note=note)
            messages.success(request, "Resolved.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("alerts-incident", incident_id=incident.pk)
