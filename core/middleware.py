from __future__ import annotations

import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from core.request_context import RequestContext, reset_context, set_context


def client_ip(request: HttpRequest) -> str:
    # Only REMOTE_ADDR: X-Forwarded-For is client-controlled unless a trusted
    # proxy rewrites it, and audit entries must not record a forged address.
    return str(request.META.get("REMOTE_ADDR", ""))


class RequestContextMiddleware:
    """Give every request an id and record where it came from for the audit log."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = uuid.uuid4().hex
        token = set_context(
            RequestContext(
                request_id=request_id,
                ip=client_ip(request),
                user_agent=str(request.META.get("HTTP_USER_AGENT", ""))[:400],
            )
        )
        try:
            response = self.get_response(request)
        finally:
            reset_context(token)
        response["X-Request-Id"] = request_id
        return response


class ContentSecurityPolicyMiddleware:
    """Send settings.VIGIL_CONTENT_SECURITY_POLICY on every response that has none yet.

    Django 5.2 has no CSP of its own, and Vigil's policy is one fixed string (no
    nonces: no page has inline script or style), so a few lines beat a dependency.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = settings.VIGIL_CONTENT_SECURITY_POLICY
        if policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy
        return response
