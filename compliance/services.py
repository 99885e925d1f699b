"""Writes of the compliance app. `audit_record` is called by every state change in Vigil."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from compliance.audit import GENESIS_HASH, entry_hash
from compliance.models import PLATFORM_CHAIN, AuditChainHead, AuditEntry
from core.request_context import current_context


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
) -> AuditEntry:
    """Append one entry to the tenant's chain (or the platform chain).

    Must run inside the caller's transaction so the change and its audit entry
    commit together; the chain head row is locked so writers never fork it.
    """
    chain = tenant_slug or PLATFORM_CHAIN
    context = current_context()
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
