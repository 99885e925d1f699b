"""Settings → Ingestion: content storage on/off, content retention, sample rate (admins)."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_http_methods

from core.exceptions import ApplicationError
from core.roles import tenant_page
from core.views_helpers import form_errors_from, form_field_errors, render_page
from metrics.ingest.forms import IngestSettingsForm
from metrics.ingest.services import ingest_settings_get, ingest_settings_update

PAGE, PARTIAL = "metrics/ingest/settings.html", "metrics/ingest/_settings.html"


@tenant_page("settings")
@require_http_methods(["GET", "POST"])
def ingest_settings(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    current = ingest_settings_get(tenant=tenant)
    initial = {
        "store_content": current.store_content,
        "content_retention_days": current.content_retention_days,
        "sample_rate_percent": Decimal(str(current.sample_rate)) * 100,
    }
    form = IngestSettingsForm(request.POST or None, initial=initial)
    errors: dict[str, str] = {}
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                current = ingest_settings_update(
                    tenant=tenant,
                    store_content=data["store_content"],
                    content_retention_days=data["content_retention_days"],
                    sample_rate=float(data["sample_rate_percent"]) / 100,
                )
            except ApplicationError as exc:
                errors = form_errors_from(exc)
                if "sample_rate" in errors:
                    errors["sample_rate_percent"] = errors.pop("sample_rate")
            else:
                messages.success(request, "Ingestion settings saved.")
        else:
            errors = form_field_errors(form)
    context = {"form": form, "settings_row": current, "errors": errors}
    return render_page(request, PAGE, PARTIAL, context)
