"""Channels and silences (admins change them), budgets/SLOs (read-only), alert quality."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from alerts.budgets.selectors import budget_statuses
from alerts.channels.services import channel_create, channel_delete, channel_test
from alerts.incidents.models import Notification, Silence, SilenceKind
from alerts.incidents.silences import silence_create, silence_end, silence_list
from alerts.reports.quality import alert_quality_report
from alerts.rules import selectors
from alerts.rules.models import AlertRule, Channel, ChannelKind
from alerts.slo.selectors import slo_statuses
from alerts.views.common import get_or_404, user_label
from core.exceptions import ApplicationError
from core.roles import tenant_page
from core.views_helpers import form_errors_from, render_page


@tenant_page("settings")
@require_http_methods(["GET", "POST"])
def channels(request: HttpRequest) -> HttpResponse:
    errors: dict[str, str] = {}
    data: dict[str, Any] = {"kind": "email"}
    if request.method == "POST":
        data = {k: request.POST.get(k, "").strip() for k in ("name", "kind", "target")}
        try:
            channel = channel_create(name=data["name"], kind=data["kind"], target=data["target"])
            messages.success(request, f"Channel “{channel.name}” added.")
            return redirect("alerts-channels")
        except ApplicationError as exc:
            errors = form_errors_from(exc)
    recent = list(
        Notification.objects.select_related("channel", "incident").order_by("-created_at")[:30]
    )
    context = {
        "channels": list(selectors.channel_list()),
        "kinds": ChannelKind.choices,
        "data": data,
        "errors": errors,
        "recent": recent,
    }
    return render_page(request, "alerts/channels.html", "alerts/_channels.html", context)


@tenant_page("settings", write=True)
@require_POST
def channel_action(request: HttpRequest, channel_id: str, action: str) -> HttpResponse:
    if action not in ("test", "delete"):
        raise Http404
    channel = get_or_404(Channel, channel_id)
    if action == "test":
        channel_test(channel=channel)
        messages.success(request, f"Test notification queued for “{channel.name}”.")
    else:
        channel_delete(channel=channel)
        messages.success(request, f"Channel “{channel.name}” deleted.")
    return redirect("alerts-channels")


def _moment(raw: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(raw.strip())
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


@tenant_page("settings")
@require_http_methods(["GET", "POST"])
def silences(request: HttpRequest) -> HttpResponse:
    errors: dict[str, str] = {}
    now = timezone.now().replace(second=0, microsecond=0)
    data: dict[str, Any] = {
        "starts_at": now.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (now + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "kind": "silence",
    }
    if request.method == "POST":
        data = {
            k: request.POST.get(k, "")
            for k in ("rule", "split_key", "kind", "starts_at", "ends_at", "reason")
        }
        starts, ends = _moment(data["starts_at"]), _moment(data["ends_at"])
        rule = None
        if data["rule"]:
            rule = (
                AlertRule.objects.filter(pk=int(data["rule"])).first()
                if data["rule"].isdigit() and len(data["rule"]) < 18
                else None
            )
            if rule is None:
                errors["rule"] = "Unknown rule."
        if starts is None:
            errors["starts_at"] = "A date and time (UTC)."
        if ends is None:
            errors["ends_at"] = "A date and time (UTC)."
        if not errors and starts is not None and ends is not None:
            try:
                silence_create(
                    starts_at=starts,
                    ends_at=ends,
                    reason=data["reason"],
                    created_by=user_label(request),
                    rule=rule,
                    split_key=data["split_key"][:256],
                    kind=data["kind"] if data["kind"] in SilenceKind.values else "",
                )
                messages.success(request, "Silence created.")
                return redirect("alerts-silences")
            except ApplicationError as exc:
                errors = form_errors_from(exc)
    context = {
        "silences": list(silence_list()[:100]),
        "rules": list(AlertRule.objects.order_by("name").only("pk", "name")),
        "kinds": SilenceKind.choices,
        "data": data,
        "errors": errors,
        "now": timezone.now(),
    }
    return render_page(request, "alerts/silences.html", "alerts/_silences.html", context)


@tenant_page("settings", write=True)
@require_POST
def silence_stop(request: HttpRequest, silence_id: str) -> HttpResponse:
    silence = get_or_404(Silence, silence_id)
    try:
        silence_end(silence=silence)
        messages.success(request, "Silence ended.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("alerts-silences")


@tenant_page("dashboard")
@require_GET
def policies(request: HttpRequest) -> HttpResponse:
    context = {"budgets": budget_statuses(), "slos": slo_statuses()}
    return render_page(request, "alerts/policies.html", "alerts/_policies.html", context)


@tenant_page("dashboard")
@require_GET
def quality(request: HttpRequest) -> HttpResponse:
    context = {"report": alert_quality_report()}
    return render_page(request, "alerts/quality.html", "alerts/_quality.html", context)
