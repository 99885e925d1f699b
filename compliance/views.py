"""Compliance pages: audit log, safety violations, evidence exports, retention settings.

Role `compliance` and admins write; platform staff read (tenant_page decides).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from compliance import selectors, services
from compliance.chain import chain_verification_request
from compliance.evidence import (
    evidence_export_record_download,
    evidence_export_request,
    export_file_path,
)
from compliance.forms import (
    AuditFilterForm,
    ExportRequestForm,
    ReviewForm,
    SettingsForm,
    ViolationFilterForm,
    day_after,
    day_start,
    form_field_errors,
)
from core.exceptions import ApplicationError
from core.roles import tenant_page
from core.views_helpers import form_errors_from, render_page

PAGE_SIZE = 50


def _slug(request: HttpRequest) -> str:
    return str(request.tenant.schema_name)  # type: ignore[attr-defined]


def _page_number(request: HttpRequest) -> int:
    raw = request.GET.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < int(raw) < 1_000_000 else 1


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@tenant_page("compliance")
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    chain = _slug(request)
    form = AuditFilterForm(request.GET or None)
    filters: dict[str, Any] = {}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = {
            "actor": data["actor"].strip(),
            "action": data["action"],
            "object_type": data["object_type"],
            "object_id": data["object_id"].strip(),
            "start": day_start(data["start"]),
            "end": day_after(data["end"]),
        }
    entries = selectors.audit_entries_search(chain=chain, **filters)
    page = Paginator(entries, PAGE_SIZE).get_page(_page_number(request))
    context = {
        "form": form,
        "errors": form_field_errors(form) if form.is_bound else {},
        "page": page,
        "options": selectors.audit_filter_options(chain=chain),
        "status": selectors.chain_status(chain=chain),
        "query": _query_without_page(request),
    }
    return render_page(request, "compliance/audit_log.html", "compliance/_audit_log.html", context)


@tenant_page("compliance", write=True)
@require_POST
def audit_verify(request: HttpRequest) -> HttpResponse:
    chain_verification_request(chain=_slug(request))
    messages.success(request, "Verification queued: every link of this chain is being re-hashed.")
    return redirect("compliance-audit")


@tenant_page("compliance")
@require_GET
def violations(request: HttpRequest) -> HttpResponse:
    form = ViolationFilterForm(request.GET or None)
    filters: dict[str, Any] = {}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = {
            "policy": data["policy"],
            "severity": data["severity"],
            "feature": data["feature"],
            "review_state": data["review_state"],
            "start": day_start(data["start"]),
            "end": day_after(data["end"]),
        }
    records = selectors.violation_records_list(**filters)
    page = Paginator(records, PAGE_SIZE).get_page(_page_number(request))
    context = {
        "form": form,
        "errors": form_field_errors(form) if form.is_bound else {},
        "page": page,
        "options": selectors.violation_filter_options(),
        "chart": selectors.violation_counts_by_day(records),
        "review_counts": selectors.violation_review_counts(records),
        "query": _query_without_page(request),
    }
    return render_page(
        request, "compliance/violations.html", "compliance/_violations.html", context
    )


@tenant_page("compliance")
@require_http_methods(["GET", "POST"])
def violation_detail(request: HttpRequest, record_id: int) -> HttpResponse:
    record = selectors.violation_record_get(record_id=record_id)
    form = ReviewForm(request.POST or None)
    errors: dict[str, str] = {}
    if request.method == "POST":
        if form.is_valid():
            try:
                services.violation_review_create(
                    record=record, state=form.cleaned_data["state"], note=form.cleaned_data["note"]
                )
            except ApplicationError as exc:
                errors = form_errors_from(exc)
            else:
                messages.success(request, "Review recorded.")
                record = selectors.violation_record_get(record_id=record_id)
                form = ReviewForm()
        else:
            errors = form_field_errors(form)
    context = {
        "record": record,
        "reviews": selectors.violation_reviews_of(record=record),
        "form": form,
        "errors": errors,
    }
    return render_page(
        request, "compliance/violation_detail.html", "compliance/_violation_review.html", context
    )


def _exports_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    exports = selectors.exports_list()
    slug = _slug(request)
    for export in exports:  # a ZIP removed from disk must not show a dead link
        export.available = (  # type: ignore[attr-defined]
            export.status == "done" and export_file_path(export, tenant_slug=slug) is not None
        )
    today = timezone.now().date()
    return {
        "exports": exports,
        "active": any(e.status in ("pending", "running") for e in exports),
        "default_start": (today - timedelta(days=90)).isoformat(),
        "default_end": today.isoformat(),
        **extra,
    }


@tenant_page("compliance")
@require_http_methods(["GET", "POST"])
def exports(request: HttpRequest) -> HttpResponse:
    errors: dict[str, str] = {}
    form = ExportRequestForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                evidence_export_request(
                    period_start=day_start(data["start"]),  # type: ignore[arg-type]
                    period_end=day_after(data["end"]),  # type: ignore[arg-type]
                    include_audit=data["include_audit"],
                    include_violations=data["include_violations"],
                    include_checkpoints=data["include_checkpoints"],
                )
            except ApplicationError as exc:
                errors = form_errors_from(exc)
            else:
                messages.success(request, "Export queued: it appears below when ready.")
                if not getattr(request, "htmx", False):
                    return redirect("compliance-exports")
                form = ExportRequestForm()
        else:
            errors = form_field_errors(form)
    context = _exports_context(request, form=form, errors=errors)
    return render_page(request, "compliance/exports.html", "compliance/_exports.html", context)


@tenant_page("compliance")
@require_GET
def exports_status(request: HttpRequest) -> HttpResponse:
    """The polled list of exports (htmx swaps it every 2 s while one is building)."""
    return render(request, "compliance/_exports_list.html", _exports_context(request))


@tenant_page("compliance")
@require_GET
def export_download(request: HttpRequest, export_id: int) -> HttpResponseBase:
    export = selectors.export_get(export_id=export_id)
    path = export_file_path(export, tenant_slug=_slug(request))
    if export.status != "done" or path is None:
        return render(request, "errors/not_found.html", status=404)
    with transaction.atomic():
        evidence_export_record_download(export=export)
    return FileResponse(path.open("rb"), as_attachment=True, filename=export.file_name)


@tenant_page("compliance")
@require_http_methods(["GET", "POST"])
def compliance_settings(request: HttpRequest) -> HttpResponse:
    current = services.compliance_settings_get()
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = SettingsForm(request.POST)
        if form.is_valid():
            try:
                current = services.compliance_settings_update(data=dict(form.cleaned_data))
            except ApplicationError as exc:
                errors = form_errors_from(exc)
            else:
                messages.success(request, "Settings saved.")
        else:
            errors = form_field_errors(form)
    else:
        form = SettingsForm(
            initial={name: getattr(current, name) for name in services.SETTINGS_FIELDS}
        )
    context = {
        "form": form,
        "settings_row": current,
        "errors": errors,
        "last_run": selectors.retention_last_run(chain=_slug(request)),
    }
    return render_page(request, "compliance/settings.html", "compliance/_settings.html", context)
