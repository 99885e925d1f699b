"""Silences and maintenance windows (audited): no notifications while one matches."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from alerts.incidents.models import Silence, SilenceKind
from alerts.rules.models import AlertRule
from compliance.services import audit_record
from core.exceptions import ApplicationError

MAX_LENGTH = timedelta(days=90)


def _slug() -> str:
    return str(getattr(connection, "schema_name", "public"))


def _snapshot(silence: Silence) -> dict[str, object]:
    return {
        "rule": silence.rule_id,
        "split_key": silence.split_key,
        "kind": silence.kind,
        "starts_at": silence.starts_at,
        "ends_at": silence.ends_at,
        "reason": silence.reason,
    }


@transaction.atomic
def silence_create(
    *,
    starts_at: datetime,
    ends_at: datetime,
    reason: str,
    created_by: str,
    rule: AlertRule | None = None,
    split_key: str = "",
    kind: str = SilenceKind.SILENCE,
) -> Silence:
    errors: dict[str, str] = {}
    if kind not in SilenceKind.values:
        errors["kind"] = "silence or maintenance"
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        errors["starts_at"] = "Times need a time zone."
    elif ends_at <= starts_at:
        errors["ends_at"] = "The end must be after the start."
    elif ends_at - starts_at > MAX_LENGTH:
        errors["ends_at"] = "At most 90 days."
    elif ends_at <= timezone.now():
        errors["ends_at"] = "The end is in the past."
    if not reason.strip():
        errors["reason"] = "Say why (it is shown on every suppressed incident)."
    if len(split_key) > 256:
        errors["split_key"] = "At most 256 characters."
    if errors:
        raise ApplicationError("Invalid silence.", details=errors)
    silence = Silence.objects.create(
        rule=rule,
        split_key=split_key.strip(),
        kind=kind,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=reason.strip()[:500],
        created_by=created_by[:200],
    )
    audit_record(
        tenant_slug=_slug(),
        action="alerts.silence_created",
        object_type="silence",
        object_id=silence.pk,
        after=_snapshot(silence),
    )
    return silence


@transaction.atomic
def silence_end(*, silence: Silence) -> Silence:
    """End a silence now (it stays listed as history)."""
    now = timezone.now()
    if silence.ends_at <= now:
        raise ApplicationError("This silence is already over.", details={"ends_at": "past"})
    before = _snapshot(silence)
    Silence.objects.filter(pk=silence.pk).update(ends_at=max(now, silence.starts_at))
    silence.refresh_from_db()
    audit_record(
        tenant_slug=_slug(),
        action="alerts.silence_ended",
        object_type="silence",
        object_id=silence.pk,
        before=before,
        after=_snapshot(silence),
    )
    return silence


def silence_list() -> QuerySet[Silence]:
    return Silence.objects.select_related("rule").order_by("-ends_at", "-pk")
