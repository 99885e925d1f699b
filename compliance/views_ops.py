"""Ops console: the integrity of every audit chain, side by side (staff only)."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_POST

from compliance import selectors
from compliance.services import audit_record
from compliance.tasks import verify_chains
from core.enqueue import enqueue_on_commit
from core.roles import staff_page
from core.views_helpers import render_page


@staff_page
@require_GET
def chains(request: HttpRequest) -> HttpResponse:
    rows = selectors.chain_status_all_tenants()
    context = {
        "rows": rows,
        "broken": [row for row in rows if row.state == "broken"],
        "unverified": sum(1 for row in rows if row.state == "unverified"),
    }
    return render_page(
        request, "compliance/ops_chains.html", "compliance/_ops_chains.html", context
    )


@staff_page
@require_POST
def chains_verify(request: HttpRequest) -> HttpResponse:
    with transaction.atomic():
        audit_record(
            tenant_slug=None,
            action="audit_chain.verification_requested",
            object_type="audit_chain",
            object_id="all",
        )
        enqueue_on_commit(verify_chains)
    messages.success(request, "Verification of every chain queued (compliance queue).")
    return redirect("ops:compliance-chains")
