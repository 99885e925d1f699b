from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def vigil(request: HttpRequest) -> dict[str, Any]:
    tenant = getattr(request, "tenant", None)
    is_tenant_host = tenant is not None and getattr(tenant, "schema_name", "public") != "public"
    return {
        "current_tenant": tenant if is_tenant_host else None,
        "current_role": getattr(request, "vigil_role", ""),
        "base_domain": settings.VIGIL_BASE_DOMAIN,
    }
