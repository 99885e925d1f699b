"""Settings → Ingestion: switch storing of prompt/answer text on or off (admins)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_http_methods

from compliance.services import compliance_settings_get
from core.roles import tenant_page
from core.views_helpers import render_page
from metrics.ingest.forms import IngestSettingsForm
from metrics.ingest.services import ingest_settings_get, ingest_settings_update

PAGE, PARTIAL = "metrics/ingest/settings.html", "metrics/ingest/_settings.html"


@tenant_page("settings")
@require_http_methods(["GET", "POST"])
def ingest_settings(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    current = ingest_settings_get(tenant=tenant)
    if request.method == "POST":
        form = IngestSettingsForm(request.POST)
        if form.is_valid():
            current = ingest_settings_update(
                tenant=tenant, store_content=form.cleaned_data["store_content"]
            )
            state = "on" if current.store_content else "off"
            messages.success(request, f"Storing prompt and answer text is now {state}.")
    context = {
        "store_content": current.store_content,
        "content_retention_days": compliance_settings_get().content_retention_days,
    }
    return render_page(request, PAGE, PARTIAL, context)
