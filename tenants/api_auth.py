"""DRF glue: the API key was already resolved by TenantResolutionMiddleware."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from tenants.models import ApiKey

if TYPE_CHECKING:  # rest_framework.views imports this module through the settings
    from rest_framework.views import APIView


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, ApiKey] | None:
        api_key = getattr(request._request, "api_key", None)
        if api_key is None:
            return None
        return (None, api_key)

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="vigil"'


class HasApiKey(BasePermission):
    message = "Missing API key: send 'Authorization: Bearer <key>'."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return isinstance(request.auth, ApiKey)


def scope_required(scope: str) -> type[BasePermission]:
    """A permission class: the key must carry `scope` (403 with the scope named otherwise)."""

    class HasScope(BasePermission):
        message = f"This API key lacks the '{scope}' scope."

        def has_permission(self, request: Request, view: APIView) -> bool:
            return isinstance(request.auth, ApiKey) and scope in request.auth.scopes

    HasScope.__name__ = f"HasScope_{scope}"
    return HasScope


def request_api_key(request: Request) -> ApiKey:
    """The calling key, typed; views behind a scope permission always have one."""
    if not isinstance(request.auth, ApiKey):
        raise NotAuthenticated(HasApiKey.message)
    return request.auth
