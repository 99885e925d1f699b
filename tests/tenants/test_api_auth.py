"""The API key middleware, through HTTP."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from django.test import Client

from tenants import services
from tests.conftest import host_of

pytestmark = pytest.mark.django_db


def get_tenant_info(client: Client, **headers: Any) -> Any:
    return client.get("/api/v1/tenant", **headers)


def test_bearer_key_resolves_its_tenant(tenant, api_key_factory):
    raw = api_key_factory(tenant, ["read"])
    response = get_tenant_info(Client(), HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200
    assert response.json()["slug"] == "alpha"


def test_x_vigil_key_header_works(tenant, api_key_factory):
    raw = api_key_factory(tenant, ["read"])
    response = get_tenant_info(Client(), HTTP_X_VIGIL_KEY=raw)
    assert response.status_code == 200 and response.json()["slug"] == "alpha"


def test_basic_auth_password_is_the_key(tenant, api_key_factory):
    raw = api_key_factory(tenant, ["read"])
    token = base64.b64encode(f"pk-anything:{raw}".encode()).decode()
    response = get_tenant_info(Client(), HTTP_AUTHORIZATION=f"Basic {token}")
    assert response.status_code == 200 and response.json()["slug"] == "alpha"


@pytest.mark.parametrize(
    ("headers", "status", "message"),
    [
        ({}, 401, "Missing API key"),
        ({"HTTP_AUTHORIZATION": "Bearer vk_not-a-real-key"}, 401, "Unknown API key"),
        ({"HTTP_AUTHORIZATION": "Basic %%%notbase64"}, 401, "Missing API key"),
        ({"HTTP_AUTHORIZATION": "Token abc"}, 401, "Missing API key"),
    ],
)
def test_missing_or_unknown_keys_get_401_json(tenant, headers, status, message):
    response = get_tenant_info(Client(), **headers)
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert message in response.json()["error"]


def test_revoked_key_gets_401(tenant):
    created = services.api_key_create(tenant=tenant, name="k", scopes=["read"])
    services.api_key_revoke(api_key=created.api_key)
    response = get_tenant_info(Client(), HTTP_AUTHORIZATION=f"Bearer {created.raw_key}")
    assert response.status_code == 401
    assert "revoked" in response.json()["error"]


def test_wrong_scope_gets_403_naming_the_scope(tenant, api_key_factory):
    raw = api_key_factory(tenant, ["ingest"])
    response = get_tenant_info(Client(), HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 403
    assert "'read' scope" in response.json()["error"]


def test_suspended_tenant_key_gets_403(tenant, api_key_factory):
    raw = api_key_factory(tenant, ["read"])
    services.tenant_set_status(tenant=tenant, status="suspended")
    response = get_tenant_info(Client(), HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 403
    assert "suspended" in response.json()["error"]


def test_key_of_tenant_b_cannot_be_used_on_tenant_a_host(tenant, other_tenant, api_key_factory):
    raw_b = api_key_factory(other_tenant, ["read"])
    response = get_tenant_info(
        Client(HTTP_HOST=host_of(tenant)), HTTP_AUTHORIZATION=f"Bearer {raw_b}"
    )
    assert response.status_code == 403
    ok = get_tenant_info(
        Client(HTTP_HOST=host_of(other_tenant)), HTTP_AUTHORIZATION=f"Bearer {raw_b}"
    )
    assert ok.status_code == 200 and ok.json()["slug"] == "beta"


def test_key_use_is_recorded(tenant):
    created = services.api_key_create(tenant=tenant, name="k", scopes=["read"])
    assert created.api_key.last_used_at is None
    get_tenant_info(Client(), HTTP_AUTHORIZATION=f"Bearer {created.raw_key}")
    created.api_key.refresh_from_db()
    assert created.api_key.last_used_at is not None


def test_unknown_api_path_is_json_404(tenant, api_key_factory):
    raw = api_key_factory(tenant, ["read"])
    response = Client().get("/api/v1/nothing-here", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 404
    assert response.json()["error"] == "Not found."


def test_openapi_schema_needs_no_key(tenant):
    response = Client().get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/v1/tenant" in response.content
