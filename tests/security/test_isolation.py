"""Tenant isolation across every route, discovered from the URLconfs.

New pages and endpoints are covered as soon as they are routed: the tests walk
both URLconfs, fill path parameters, and attack each route as another tenant.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.conftest import host_of

pytestmark = pytest.mark.django_db

# Login, logout and the password pages show nothing of any tenant: open to anyone.
AUTH_PAGES = {"", "login/", "logout/"}
PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


def _walk(patterns: list, prefix: str = "") -> Iterator[str]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern)


def _fill(route: str, *, slug: str = "alpha") -> str:
    def value(match: re.Match[str]) -> str:
        converter = match.group("converter") or "str"
        if converter == "int":
            return "1"
        if converter == "uuid":
            return str(uuid.uuid4())
        if converter == "path":
            return "x"
        return slug

    path = PARAM.sub(value, route).lstrip("^").rstrip("$")
    return "/" + path


def routes(urlconf: str) -> list[str]:
    return sorted({_fill(route) for route in _walk(get_resolver(urlconf).url_patterns)})


AUTH_PAGES |= {str(entry.pattern) for entry in get_resolver("core.urls_auth").url_patterns}
OPEN_PATHS = {_fill(route) for route in AUTH_PAGES}
TENANT_PAGES = [
    path
    for path in routes("core.urls_tenant")
    if not path.startswith("/api/") and (path not in OPEN_PATHS or path == "/")
]
API_ROUTES = [path for path in routes("core.urls_public") if path.startswith("/api/")]
KEYLESS = ("/api/schema", "/api/docs", "/api/health")


@pytest.mark.parametrize("path", TENANT_PAGES)
def test_user_of_beta_gets_nothing_from_alpha_pages(
    path, tenant, other_tenant, member_factory, tenant_client
):
    intruder = tenant_client(tenant, member_factory(other_tenant, "admin"))
    for method in ("get", "post"):
        response = getattr(intruder, method)(path)
        assert response.status_code in (403, 404, 405), (method, path, response.status_code)


def test_start_page_refuses_beta_admin_on_alpha_host(
    tenant, other_tenant, member_factory, tenant_client
):
    intruder = tenant_client(tenant, member_factory(other_tenant, "admin"))
    assert intruder.get("/").status_code == 403


@pytest.mark.parametrize("path", TENANT_PAGES)
def test_anonymous_visitor_never_sees_tenant_pages(path, tenant, tenant_client):
    response = tenant_client(tenant).get(path)
    assert response.status_code in (302, 403, 404, 405), (path, response.status_code)
    if response.status_code == 302:
        assert "/login/" in response["Location"]


@pytest.mark.parametrize("path", [p for p in API_ROUTES if not p.startswith(KEYLESS)])
def test_beta_key_is_refused_on_alpha_host_for_every_api_route(
    path, tenant, other_tenant, api_key_factory
):
    raw_beta = api_key_factory(other_tenant, ["ingest", "read", "budget"])
    client = Client(HTTP_HOST=host_of(tenant), HTTP_AUTHORIZATION=f"Bearer {raw_beta}")
    for method in ("get", "post"):
        response = getattr(client, method)(path)
        assert response.status_code == 403, (method, path, response.status_code)


@pytest.mark.parametrize("path", [p for p in API_ROUTES if not p.startswith(KEYLESS)])
def test_every_api_route_needs_a_key_and_never_fails_on_empty_input(path, tenant, api_key_factory):
    assert Client().get(path).status_code == 401, path
    client = Client(
        HTTP_AUTHORIZATION=f"Bearer {api_key_factory(tenant, ['ingest', 'read', 'budget'])}"
    )
    for method in ("get", "post"):
        response = getattr(client, method)(path, content_type="application/json")
        assert response.status_code < 500, (method, path, response.status_code)


def test_client_set_tenant_headers_are_ignored(tenant, other_tenant, api_key_factory):
    raw_beta = api_key_factory(other_tenant, ["read"])
    response = Client().get(
        "/api/v1/tenant",
        HTTP_AUTHORIZATION=f"Bearer {raw_beta}",
        HTTP_X_TENANT="alpha",
        HTTP_X_SCHEMA="alpha",
        HTTP_X_FORWARDED_HOST=host_of(tenant),
    )
    assert response.json()["slug"] == "beta"


@pytest.mark.parametrize(
    "host",
    [
        "public.localhost",
        "pg_catalog.localhost",
        "information_schema.localhost",
        "alpha.localhost.evil.localhost",
    ],
)
def test_guessed_schema_hosts_are_unknown(host, tenant):
    response = Client(HTTP_HOST=host).get("/")
    assert response.status_code in (400, 404)  # 400: not even a valid host name
