"""Writes of the compliance app. `audit_record` is called by every state change in Vigil."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from compliance.audit import GENESIS_HASH, entry_hash
from compliance.models import (
    PLATFORM_CHAIN,
    AuditChainHead,
    AuditEntry,
    ComplianceSettings,
    ReviewState,
    ViolationRecord,
    ViolationReview,
)
from core.db import tenant_connection
from core.exceptions import ApplicationError
from core.request_context import current_context
from core.services import model_update


def _jsonable(values: dict[str, Any] | None) -> dict[str, Any]:
    def convert(value: Any) -> Any:
        if isinstance(value, datetime | date):
            return value.isoformat()
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, dict):
            return {str(k): convert(v) for k, v in value.items()}
        if isinstance(value, list | tuple | set):
            return [convert(v) for v in value]
        if value is None or isinstance(value, str | int | float | bool):
            return value
        return str(value)

    return {str(k): convert(v) for k, v in (values or {}).items()}


def audit_record(
    *,
    tenant_slug: str | None,
    action: str,
    object_type: str,
    object_id: str | int = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    actor_type: str | None = None,
    actor_id: str | int | None = None,
    actor_label: str | None = None,
    actor_role: str | None = None,
) -> AuditEntry:
    """Append one entry to the tenant's chain (or the platform chain).

    Must run inside the caller's transaction so the change and its audit entry
    commit together; the chain head row is locked so writers never fork it.
    The actor comes from the request context; the optional actor_* arguments
    override it where the context cannot know yet (e.g. the user a login
    authenticates, before the request carries them).
    """
    chain = tenant_slug or PLATFORM_CHAIN
    context = current_context()
    overrides = {
        "actor_type": actor_type,
        "actor_id": None if actor_id is None else str(actor_id),
        "actor_label": actor_label,
        "actor_role": actor_role,
    }
    context = replace(context, **{k: v for k, v in overrides.items() if v is not None})
    with transaction.atomic():
        AuditChainHead.objects.get_or_create(chain=chain, defaults={"head_hash": GENESIS_HASH})
        head = AuditChainHead.objects.select_for_update().get(chain=chain)
        fields: dict[str, Any] = {
            "chain": chain,
            "seq": head.seq + 1,
            "occurred_at": timezone.now(),
            "actor_type": context.actor_type,
            "actor_id": context.actor_id,
            "actor_label": context.actor_label,
            "actor_role": context.actor_role,
            "action": action,
            "object_type": object_type,
            "object_id": str(object_id),
            "before": _jsonable(before),
            "after": _jsonable(after),
            "ip": context.ip,
            "user_agent": context.user_agent,
            "request_id": context.request_id,
            "prev_hash": head.head_hash,
        }
        fields["entry_hash"] = entry_hash(fields)
        entry = AuditEntry.objects.create(**fields)
        AuditChainHead.objects.filter(pk=head.pk).update(seq=entry.seq, head_hash=entry.entry_hash)
    return entry


# --- safety-violation reviews and tenant compliance settings -----------------


def _tenant_slug() -> str:
    slug = str(tenant_connection().schema_name)
    if slug == PLATFORM_CHAIN:
        raise ApplicationError("No tenant.", details={"tenant": "Run inside a tenant schema."})
    return slug


def violation_review_create(*, record: ViolationRecord, state: str, note: str) -> ViolationReview:
    """Add a verdict on a record (never an edit: the latest review is the current state)."""
    note = (note or "").strip()
    errors: dict[str, str] = {}
    if state not in ReviewState.values:
        errors["state"] = "Choose confirmed, false positive or remediated."
    if not note:
        errors["note"] = "Say why: the review is evidence too."
    elif len(note) > 2000:
        errors["note"] = "At most 2000 characters."
    if errors:
        raise ApplicationError("Invalid review.", details=errors)
    context = current_context()
    slug = _tenant_slug()
    with transaction.atomic():
        previous = record.reviews.order_by("-created_at", "-id").first()
        review = ViolationReview.objects.create(
            record=record,
            state=state,
            note=note,
            reviewer_id=context.actor_id,
            reviewer_label=context.actor_label or "system",
            reviewer_role=context.actor_role,
            created_at=timezone.now(),
        )
        audit_record(
            tenant_slug=slug,
            action="violation.reviewed",
            object_type="violation_record",
            object_id=record.pk,
            before={"state": previous.state if previous else "unreviewed"},
            after={"state": state, "note": note, "policy": record.policy},
        )
    return review


SETTINGS_FIELDS = [
    "record_refusals",
    "events_retention_days",
    "content_retention_days",
    "records_retention_days",
    "legal_hold",
    "legal_hold_reason",
]
RETENTION_LIMITS = {
    "events_retention_days": (1, 3650),
    "content_retention_days": (1, 3650),
    "records_retention_days": (365, 36500),
}


def compliance_settings_get() -> ComplianceSettings:
    """The current tenant's settings (defaults when never saved)."""
    return ComplianceSettings.objects.filter(pk=1).first() or ComplianceSettings(pk=1)


def compliance_settings_update(*, data: dict[str, Any]) -> ComplianceSettings:
    """Change retention, refusal recording or the legal hold of the current tenant; audited."""
    errors: dict[str, str] = {}
    for name, (low, high) in RETENTION_LIMITS.items():
        if name in data:
            value = data[name]
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                errors[name] = f"A whole number of days from {low} to {high}."
    if data.get("legal_hold") and not str(data.get("legal_hold_reason", "")).strip():
        errors["legal_hold_reason"] = "Say why the hold is placed (matter, ticket, counsel)."
    if errors:
        raise ApplicationError("Invalid settings.", details=errors)
    if "legal_hold_reason" in data:
        data = {**data, "legal_hold_reason": str(data["legal_hold_reason"]).strip()[:500]}
    slug = _tenant_slug()
    with transaction.atomic():
        row, _ = ComplianceSettings.objects.select_for_update().get_or_create(pk=1)
        row, before, after = model_update(instance=row, fields=SETTINGS_FIELDS, data=data)
        if after:
            ComplianceSettings.objects.filter(pk=1).update(updated_at=timezone.now())
            audit_record(
                tenant_slug=slug,
                action="compliance_settings.updated",
                object_type="compliance_settings",
                object_id=slug,
                before=before,
                after=after,
            )
    row.refresh_from_db()
    return row
