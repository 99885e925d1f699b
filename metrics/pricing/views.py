"""The "Unpriced models" page: models Vigil could not price, and the tenant's overrides."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_http_methods

from core.enqueue import enqueue_on_commit
from core.exceptions import ApplicationError
from core.roles import tenant_page
from core.views_helpers import form_errors_from, form_field_errors, render_page
from metrics.pricing.forms import PriceOverrideForm
from metrics.pricing.selectors import price_overrides_list, unpriced_models_list
from metrics.pricing.services import events_reprice, price_override_create
from metrics.pricing.tasks import reprice

PAGE, PARTIAL = "metrics/pricing/unpriced.html", "metrics/pricing/_unpriced.html"
REPRICE_INLINE_EVENTS = 20_000  # more unpriced events than this: the rest in the background


def _context(request: HttpRequest, **extra: object) -> dict[str, object]:
    return {
        "unpriced": unpriced_models_list(),
        "overrides": price_overrides_list(),
        "form": extra.pop("form", PriceOverrideForm()),
        **extra,
    }


@tenant_page("dashboard")
@require_http_methods(["GET"])
def unpriced_models(request: HttpRequest) -> HttpResponse:
    return render_page(request, PAGE, PARTIAL, _context(request))


@tenant_page("settings", write=True)
@require_http_methods(["POST"])
def price_override_add(request: HttpRequest) -> HttpResponse:
    """Add a negotiated price (admins), then re-price the events it now covers."""
    tenant = request.tenant  # type: ignore[attr-defined]
    form = PriceOverrideForm(request.POST)
    errors: dict[str, str] = {}
    if not form.is_valid():
        errors = form_field_errors(form)
    else:
        try:
            override = price_override_create(tenant=tenant, **form.cleaned_data)
        except ApplicationError as exc:
            errors = form_errors_from(exc)
        else:
            result = events_reprice(tenant=tenant, max_events=REPRICE_INLINE_EVENTS)
            note = f"Price for {override.model} saved; {result.changed} unpriced events re-priced"
            if not result.complete:
                enqueue_on_commit(reprice)
                note += "; the remaining ones are being re-priced in the background"
            messages.success(request, note + ".")
            form = PriceOverrideForm()
    return render_page(request, PAGE, PARTIAL, _context(request, form=form, errors=errors))
