"""The role check every tenant page uses.

TenantResolutionMiddleware and MemberRoleMiddleware have put the host's tenant
and the user's role in that tenant on the request; a page names its area and
whether it changes anything, and this decides. Platform staff without a
membership get a read-only view of any area but the review queue, and their
first look at a tenant in a session is written to the audit log.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from compliance.services import audit_record

STAFF_ROLE = "staff"
AREA_ROLES: dict[str, frozenset[str]] = {
    "overview": frozenset({"admin", "analyst", "compliance", "reviewer", STAFF_ROLE}),
    "dashboard": frozenset({"admin", "analyst", STAFF_ROLE}),
    "compliance": frozenset({"admin", "compliance", STAFF_ROLE}),
    "review": frozenset({"admin", "reviewer"}),
    "settings": frozenset({"admin", STAFF_ROLE}),
}


def role_allows(role: str, area: str, *, write: bool = False) -> bool:
    if role not in AREA_ROLES[area]:
        return False
    return not (write and role == STAFF_ROLE)


def _record_staff_view(request: HttpRequest) -> None:
    tenant = request.tenant  # type: ignore[attr-defined]
    session_key = f"staff_viewed_{tenant.schema_name}"
    if request.session.get(session_key):
        return
    audit_record(
        tenant_slug=tenant.schema_name,
        action="staff.viewed_tenant",
        object_type="tenant",
        object_id=tenant.schema_name,
        after={"path": request.path},
    )
    request.session[session_key] = True


def tenant_page(area: str, *, write: bool = False) -> Callable[..., Any]:
    """Decorate a tenant page: login required, role checked, writes refused to read-only roles.

    `write=True` marks views that only change things; other views may still
    receive POSTs, which are then refused to staff (read-only).
    """
    if area not in AREA_ROLES:
        raise ValueError(f"unknown area {area!r}")

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if getattr(request, "tenant", None) is None:
                return render(request, "errors/not_found.html", status=404)
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            role = getattr(request, "vigil_role", "")
            is_write = write or request.method not in ("GET", "HEAD", "OPTIONS")
            if not role_allows(role, area, write=is_write):
                return render(
                    request,
                    "errors/forbidden.html",
                    {"area": area, "role": role, "read_only": role == STAFF_ROLE},
                    status=403,
                )
            if role == STAFF_ROLE:
                _record_staff_view(request)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def staff_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The ops console: staff users on the public host only."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if getattr(request, "tenant", None) is not None:
            return render(request, "errors/not_found.html", status=404)
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.is_staff:
            return render(request, "errors/forbidden.html", {"area": "ops"}, status=403)
        return view(request, *args, **kwargs)

    return wrapped
