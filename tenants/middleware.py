"""Find the tenant of every request before any view (or DRF) runs.

- `/api/...` paths: the tenant is the one the API key belongs to. The key comes
  from `Authorization: Bearer <key>`, `X-Vigil-Key: <key>` or HTTP Basic (the
  Langfuse SDK's public-key:secret-key pair, where the secret is the Vigil key).
- Every other path: the tenant is the one whose Domain matches the host name;
  the base domain itself is the public host (ops console, login).
Never from a header the client can set freely.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import set_urlconf
from django_tenants.middleware.main import TenantMainMiddleware

from core.db import tenant_connection
from core.request_context import update_actor
from tenants.models import Domain, Tenant
from tenants.selectors import api_key_resolve, membership_role
from tenants.services import api_key_mark_used

logger = logging.getLogger(__name__)

KEYLESS_API_PREFIXES = ("/api/schema", "/api/docs", "/api/health")


def raw_key_from_request(request: HttpRequest) -> str:
    header = str(request.META.get("HTTP_AUTHORIZATION", "")).strip()
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer":
        return credentials.strip()
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return ""
        return decoded.partition(":")[2]
    return str(request.META.get("HTTP_X_VIGIL_KEY", "")).strip()


def _api_error(message: str, status: int) -> JsonResponse:
    response = JsonResponse({"error": message, "details": {}}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="vigil"'
    return response


def _database_unavailable(request: HttpRequest) -> HttpResponse:
    """503 + Retry-After while PostgreSQL is unreachable (restart, failover): clients retry
    with the same event ids, so nothing is lost and nothing is counted twice."""
    message = "Storage is unavailable; nothing was stored. Retry later."
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"error": message, "details": {}}, status=503)
    else:
        response = HttpResponse(message, status=503, content_type="text/plain")
    response["Retry-After"] = "5"
    return response


class TenantResolutionMiddleware(TenantMainMiddleware):
    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        try:
            return self._resolve(request)
        except DatabaseError:
            logger.exception("tenant resolution failed: database unavailable")
            return _database_unavailable(request)

    def _resolve(self, request: HttpRequest) -> HttpResponse | None:
        tenant_connection().set_schema_to_public()
        request.tenant = None  # type: ignore[attr-defined]
        request.api_key = None  # type: ignore[attr-defined]
        try:
            hostname = self.hostname_from_request(request)
        except DisallowedHost:
            return HttpResponse("Unknown host.", status=400, content_type="text/plain")

        is_public_host = hostname in self._public_hosts()
        host_tenant = None if is_public_host else self._tenant_for_host(hostname)
        if request.path.startswith("/api/"):
            return self._resolve_api(request, host_tenant)
        if is_public_host:
            self._route_public(request)
            return None
        if host_tenant is None:
            return render(request, "errors/unknown_host.html", {"hostname": hostname}, status=404)
        if not host_tenant.is_active:
            return render(request, "errors/suspended.html", {"tenant": host_tenant}, status=403)
        host_tenant.domain_url = hostname
        request.tenant = host_tenant  # type: ignore[attr-defined]
        tenant_connection().set_tenant(host_tenant)
        self.setup_url_routing(request)
        return None

    @staticmethod
    def _public_hosts() -> set[str]:
        return {settings.VIGIL_BASE_DOMAIN, "127.0.0.1", "testserver"}

    @staticmethod
    def _tenant_for_host(hostname: str) -> Tenant | None:
        domain = Domain.objects.select_related("tenant").filter(domain=hostname).first()
        return domain.tenant if domain is not None else None

    @staticmethod
    def _route_public(request: HttpRequest) -> None:
        request.urlconf = settings.PUBLIC_SCHEMA_URLCONF
        set_urlconf(settings.PUBLIC_SCHEMA_URLCONF)

    def _resolve_api(self, request: HttpRequest, host_tenant: Tenant | None) -> HttpResponse | None:
        self._route_public(request)
        if request.path.startswith(KEYLESS_API_PREFIXES):
            return None
        resolution = api_key_resolve(raw_key=raw_key_from_request(request))
        if resolution.api_key is None:
            return _api_error(resolution.error or "Invalid API key.", resolution.status)
        api_key = resolution.api_key
        if host_tenant is not None and host_tenant.pk != api_key.tenant_id:
            return _api_error("This API key belongs to another tenant than this host.", 403)
        request.api_key = api_key  # type: ignore[attr-defined]
        request.tenant = api_key.tenant  # type: ignore[attr-defined]
        api_key_mark_used(api_key=api_key)
        update_actor(actor_type="api_key", actor_id=api_key.prefix, actor_label=api_key.name)
        tenant_connection().set_tenant(api_key.tenant)
        return None


class MemberRoleMiddleware:
    """After authentication: the user's role in the host's tenant, and the audit actor."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        tenant = getattr(request, "tenant", None)
        user = request.user
        role = ""
        if tenant is not None and getattr(request, "api_key", None) is None:
            role = membership_role(user=user, tenant=tenant) or ""
            if not role and user.is_authenticated and user.is_staff:
                role = "staff"  # platform ops: read-only view, audited by the role check
        request.vigil_role = role  # type: ignore[attr-defined]
        if user.is_authenticated:
            update_actor(
                actor_type="user",
                actor_id=str(user.pk),
                actor_label=user.get_username(),
                actor_role=role or ("staff" if user.is_staff else ""),
            )
        return self.get_response(request)
