"""Shared bits of the alerts API: scopes per method and the tenant-checked lookups."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from tenants.models import ApiKey

# Reads need a key with scope `read`; changes need scope `alerts` (docs/decisions/0005).
READ_SCOPE = "read"
WRITE_SCOPE = "alerts"


class AlertsScope(BasePermission):
    message = "This API key lacks the 'read' scope (GET) or the 'alerts' scope (changes)."

    def has_permission(self, request: Request, view: Any) -> bool:
        key = request.auth
        if not isinstance(key, ApiKey):
            return False
        needed = READ_SCOPE if request.method in ("GET", "HEAD", "OPTIONS") else WRITE_SCOPE
        return needed in key.scopes


def object_or_404(model: Any, pk: Any) -> Any:
    """The current tenant's object (its schema is the connection's) or 404; ids are ints."""
    try:
        number = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    obj = model.objects.filter(pk=number).first() if 0 < number < 2**63 else None
    if obj is None:
        raise Http404
    return obj


def actor_label(request: Request) -> str:
    key = request.auth
    return f"api key {key.name} ({key.prefix})" if isinstance(key, ApiKey) else "api"
