"""Writes on channels and delivery results (every attempt is recorded)."""

from __future__ import annotations

import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import connection, transaction
from django.utils import timezone

from alerts.channels.delivery import DeliveryError, deliver, payload_for
from alerts.channels.ssrf import UnsafeURL, vet_url
from alerts.incidents.models import Notification, NotificationStatus
from alerts.rules.models import Channel, ChannelKind
from compliance.services import audit_record
from core.enqueue import enqueue_on_commit
from core.exceptions import ApplicationError
from core.services import model_update

MAX_ATTEMPTS = 5
CHANNEL_FIELDS = ["name", "kind", "target", "enabled"]


def _slug() -> str:
    return str(getattr(connection, "schema_name", "public"))


def _validate(kind: str, target: str, name: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = "Give the channel a name."
    if kind not in ChannelKind.values:
        errors["kind"] = f"One of: {', '.join(ChannelKind.values)}."
    elif kind == "email":
        addresses = [a.strip() for a in target.split(",") if a.strip()]
        if not addresses:
            errors["target"] = "At least one e-mail address."
        for address in addresses:
            try:
                validate_email(address)
            except ValidationError:
                errors["target"] = f"Not an e-mail address: {address[:80]}"
    else:
        try:
            URLValidator(schemes=["http", "https"])(target)
        except ValidationError:
            errors["target"] = "An http(s) URL."
        else:
            try:
                vet_url(target)
            except UnsafeURL as exc:
                errors["target"] = str(exc)
    return errors


@transaction.atomic
def channel_create(*, name: str, kind: str, target: str, enabled: bool = True) -> Channel:
    errors = _validate(kind, target, name)
    if errors:
        raise ApplicationError("Invalid channel.", details=errors)
    channel = Channel.objects.create(
        name=name.strip()[:100],
        kind=kind,
        target=target.strip()[:1000],
        secret=secrets.token_hex(32) if kind == "webhook" else "",
        enabled=enabled,
    )
    audit_record(
        tenant_slug=_slug(),
        action="alerts.channel_created",
        object_type="alert_channel",
        object_id=channel.pk,
        after={"name": channel.name, "kind": kind, "target": channel.target},
    )
    return channel


@transaction.atomic
def channel_update(*, channel: Channel, data: dict[str, Any]) -> Channel:
    merged = {f: data.get(f, getattr(channel, f)) for f in CHANNEL_FIELDS}
    errors = _validate(merged["kind"], merged["target"], merged["name"])
    if errors:
        raise ApplicationError("Invalid channel.", details=errors)
    channel, before, after = model_update(instance=channel, fields=CHANNEL_FIELDS, data=data)
    if after:
        audit_record(
            tenant_slug=_slug(),
            action="alerts.channel_updated",
            object_type="alert_channel",
            object_id=channel.pk,
            before=before,
            after=after,
        )
    return channel


@transaction.atomic
def channel_delete(*, channel: Channel) -> None:
    audit_record(
        tenant_slug=_slug(),
        action="alerts.channel_deleted",
        object_type="alert_channel",
        object_id=channel.pk,
        before={"name": channel.name, "kind": channel.kind, "target": channel.target},
    )
    channel.delete()


def channel_test(*, channel: Channel) -> Notification:
    """Queue a test notification (delivered by the same task as real ones)."""
    from alerts.tasks import deliver_notification

    with transaction.atomic():
        notification = Notification.objects.create(
            channel=channel, kind="test", created_at=timezone.now()
        )
        enqueue_on_commit(deliver_notification, notification.pk)
    return notification


def notification_deliver(*, notification_id: int) -> tuple[bool, bool]:
    """One delivery attempt, recorded. Returns (delivered, should_retry)."""
    notification = (
        Notification.objects.select_related("channel", "incident")
        .filter(pk=notification_id)
        .first()
    )
    if notification is None or notification.status != NotificationStatus.PENDING:
        return False, False
    channel = notification.channel
    body = payload_for(notification)
    now = timezone.now()
    attempts = notification.attempts + 1
    try:
        status = deliver(channel, body)
    except DeliveryError as exc:
        final = attempts >= MAX_ATTEMPTS
        Notification.objects.filter(pk=notification.pk).update(
            attempts=attempts,
            error=str(exc)[:500],
            response_code=exc.status,
            payload=body,
            status=NotificationStatus.FAILED if final else NotificationStatus.PENDING,
        )
        Channel.objects.filter(pk=channel.pk).update(
            last_status="failing", last_error=str(exc)[:500], last_delivery_at=now
        )
        return False, not final
    Notification.objects.filter(pk=notification.pk).update(
        attempts=attempts,
        status=NotificationStatus.SENT,
        response_code=status,
        error="",
        payload=body,
        delivered_at=now,
    )
    Channel.objects.filter(pk=channel.pk).update(
        last_status="ok", last_error="", last_delivery_at=now
    )
    return True, False
