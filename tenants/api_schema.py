"""Describe API key authentication in the OpenAPI schema (drf-spectacular)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "tenants.api_auth.ApiKeyAuthentication"
    name = "VigilApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A Vigil API key: `Authorization: Bearer vk_...`. "
            "The key decides the tenant; scopes: ingest, read, budget.",
        }
