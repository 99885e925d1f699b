"""Sending one notification: e-mail (Django mail), signed JSON webhook, Slack incoming webhook.

Webhook signature: header `X-Vigil-Timestamp` holds the Unix time of the
send, `X-Vigil-Signature` is `sha256=` + hex HMAC-SHA256 of
`<timestamp>.<raw body>` keyed with the channel's secret. Receivers
recompute it, compare in constant time and reject timestamps older than five
minutes (replays). `signature_verify` is that check.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import socket
import time
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import connection

from alerts.channels.ssrf import UnsafeURL, VettedURL, vet_url
from alerts.incidents.models import Incident, Notification
from alerts.rules.models import Channel
from tenants.services import tenant_domain_for

HTTP_TIMEOUT_S = 5.0
SIGNATURE_TOLERANCE_S = 300


class DeliveryError(Exception):
    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def signature_verify(
    *, secret: str, timestamp: str, body: bytes, signature: str, now: float | None = None
) -> bool:
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    if abs((now if now is not None else time.time()) - ts) > SIGNATURE_TOLERANCE_S:
        return False
    return hmac.compare_digest(sign(secret, ts, body), signature)


def incident_url(incident_id: int) -> str:
    slug = str(getattr(connection, "schema_name", "public"))
    port = settings.VIGIL_PUBLIC_PORT
    host = tenant_domain_for(slug) + (f":{port}" if port not in ("", "80", "443") else "")
    return f"{settings.VIGIL_PUBLIC_SCHEME}://{host}/alerts/incidents/{incident_id}/"


def payload_for(notification: Notification) -> dict[str, Any]:
    slug = str(getattr(connection, "schema_name", "public"))
    incident: Incident | None = notification.incident
    body: dict[str, Any] = {
        "type": f"incident.{notification.kind}",
        "tenant": slug,
        "notification_id": notification.pk,
        "sent_at": notification.created_at.isoformat(),
    }
    if incident is not None:
        body["incident"] = {
            "id": incident.pk,
            "rule": incident.rule_name,
            "metric": incident.metric,
            "split_key": incident.split_key,
            "severity": incident.severity,
            "status": incident.status,
            "value": incident.value,
            "threshold": incident.threshold,
            "opened_at": incident.opened_at.isoformat(),
            "resolved_at": incident.resolved_at.isoformat() if incident.resolved_at else None,
            "url": incident_url(incident.pk),
        }
    return body


def summary(body: dict[str, Any]) -> str:
    incident = body.get("incident")
    if incident is None:
        return f"Vigil test notification for {body['tenant']}"
    split = f" [{incident['split_key']}]" if incident["split_key"] else ""
    state = "RESOLVED" if body["type"] == "incident.resolved" else incident["severity"].upper()
    return (
        f"[{state}] {incident['rule']}{split}: value {incident['value']!s} "
        f"(threshold {incident['threshold']!s}) — {body['tenant']}"
    )


def pinned_connection(vetted: VettedURL, address: str) -> http.client.HTTPConnection:
    """A connection to `address` that still speaks to `vetted.host` (Host header, TLS SNI and
    certificate check), so a DNS answer that changed since the check is never used."""
    connection_class = (
        http.client.HTTPSConnection if vetted.scheme == "https" else http.client.HTTPConnection
    )
    conn = connection_class(vetted.host, vetted.port, timeout=HTTP_TIMEOUT_S)

    def connect_to_vetted_address(
        _address: tuple[str, int], timeout: float | None = None, source: Any = None
    ) -> socket.socket:
        return socket.create_connection((address, vetted.port), timeout, source)

    conn._create_connection = connect_to_vetted_address  # type: ignore[attr-defined]
    return conn


def _post(url: str, data: bytes, headers: dict[str, str]) -> int:
    """POST to `url` after the SSRF check, to the vetted address, without following redirects."""
    try:
        vetted = vet_url(url)
    except UnsafeURL as exc:
        raise DeliveryError(f"refused: {exc}") from exc
    last_error: Exception | None = None
    for address in vetted.addresses:
        conn = pinned_connection(vetted, address)
        try:
            conn.request("POST", vetted.path, body=data, headers=headers)
            response = conn.getresponse()
            status = int(response.status)
            response.read(64 * 1024)  # drain a little so the server sees a clean close
        except (OSError, http.client.HTTPException) as exc:  # timeouts are OSErrors too
            last_error = exc
            continue
        finally:
            conn.close()
        if 300 <= status < 400:
            # A redirect could point anywhere, including inside; receivers must answer 2xx.
            raise DeliveryError(f"HTTP {status} (redirects are not followed)", status=status)
        if status >= 300:
            raise DeliveryError(f"HTTP {status}", status=status)
        return status
    raise DeliveryError(f"connection failed: {last_error}")


def deliver(channel: Channel, body: dict[str, Any]) -> int | None:
    """Send `body` through `channel`; returns the HTTP status (None for e-mail) or raises."""
    if channel.kind == "email":
        recipients = [a.strip() for a in channel.target.split(",") if a.strip()]
        text = summary(body)
        incident = body.get("incident")
        lines = [text, ""]
        if incident is not None:
            lines += [f"Open the incident: {incident['url']}", ""]
        lines.append(json.dumps(body, indent=2))
        message = EmailMessage(
            subject=text[:200],
            body="\n".join(lines),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=recipients,
            connection=get_connection(timeout=int(HTTP_TIMEOUT_S)),
        )
        try:
            message.send(fail_silently=False)
        except Exception as exc:  # any SMTP or socket failure is a failed delivery
            raise DeliveryError(f"smtp: {exc}") from exc
        return None
    if channel.kind == "slack":
        text = summary(body)
        incident = body.get("incident")
        link = f" <{incident['url']}|open>" if incident else ""
        slack = {
            "text": text,
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text + link}}],
        }
        data = json.dumps(slack).encode()
        return _post(channel.target, data, {"Content-Type": "application/json"})
    data = json.dumps(body, sort_keys=True).encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Vigil-Alerts/1",
        "X-Vigil-Timestamp": str(timestamp),
        "X-Vigil-Signature": sign(channel.secret, timestamp, data),
        "X-Vigil-Event": str(body["type"]),
    }
    return _post(channel.target, data, headers)
