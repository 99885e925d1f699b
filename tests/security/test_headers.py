"""Security headers on every kind of answer, and templates the Content-Security-Policy can serve."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_FILES = sorted(
    p for p in [*ROOT.glob("templates/**/*.html"), *ROOT.glob("*/templates/**/*.html")]
)


def csp_directives(response: Any) -> dict[str, str]:
    header = response.headers.get("Content-Security-Policy", "")
    directives = {}
    for part in header.split(";"):
        name, _, value = part.strip().partition(" ")
        if name:
            directives[name] = value.strip()
    return directives


def assert_secured(response: Any) -> None:
    directives = csp_directives(response)
    assert directives.get("script-src") == "'self'", response.headers
    assert directives.get("style-src") == "'self'"
    assert directives.get("default-src") == "'self'"
    assert directives.get("frame-ancestors") == "'none'"
    assert directives.get("object-src") == "'none'"
    assert directives.get("base-uri") == "'self'"
    assert directives.get("form-action") == "'self'"
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert "unsafe-eval" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


@pytest.mark.django_db
def test_pages_api_answers_and_errors_carry_the_policy(
    tenant: Any,
    admin_user: Any,
    tenant_client: Callable[..., Client],
    public_client: Callable[..., Client],
    api_client: Client,
) -> None:
    anonymous = tenant_client(tenant)
    member = tenant_client(tenant, admin_user)
    answers = {
        "tenant login page": anonymous.get("/login/"),
        "public login page": public_client().get("/login/"),
        "dashboard": member.get("/"),
        "cost page": member.get("/cost/"),
        "htmx partial": member.get("/latency/", HTTP_HX_REQUEST="true"),
        "page not found": member.get("/no-such-page/"),
        "unknown host": Client(HTTP_HOST="nobody.localhost").get("/"),
        "api answer": api_client.get("/api/v1/tenant"),
        "api error": api_client.post("/api/v1/events", "{", content_type="application/json"),
        "api without key": Client().get("/api/v1/tenant"),
        "openapi schema": Client().get("/api/schema/"),
        "api docs": Client().get("/api/docs/"),
    }
    expected = {"tenant login page": 200, "dashboard": 200, "api answer": 200, "api docs": 200}
    for name, status in expected.items():
        assert answers[name].status_code == status, name
    for name, response in answers.items():
        assert "Content-Security-Policy" in response.headers, name
        assert_secured(response)


def test_api_docs_load_swagger_ui_from_our_static_files() -> None:
    page = Client().get("/api/docs/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "cdn.jsdelivr.net" not in html and "unpkg.com" not in html
    assert "<style" not in html
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert scripts, "Swagger UI page has no scripts"
    for attributes, body in scripts:
        assert "src=" in attributes and not body.strip(), "inline script on the API docs page"
    start_up = Client().get("/api/docs/?script")
    assert start_up.status_code == 200 and "SwaggerUIBundle" in start_up.content.decode()


@pytest.mark.django_db
def test_hsts_is_sent_over_tls_when_configured(
    settings: Any, tenant: Any, tenant_client: Callable[..., Client]
) -> None:
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    client = tenant_client(tenant)
    secure = client.get("/login/", secure=True)
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "includeSubDomains" in secure.headers["Strict-Transport-Security"]
    plain = tenant_client(tenant).get("/login/")
    assert "Strict-Transport-Security" not in plain.headers


def test_cookie_settings_are_safe_by_default() -> None:
    assert settings.SESSION_COOKIE_HTTPONLY is True
    assert settings.SESSION_COOKIE_SAMESITE == "Lax"
    assert settings.CSRF_COOKIE_SECURE == settings.SESSION_COOKIE_SECURE


INLINE_CODE = {
    "inline <script> block": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),
    "<style> element": re.compile(r"<style[\s>]", re.I),
    "style attribute": re.compile(r"\sstyle\s*=", re.I),
    "inline event handler": re.compile(r"\son[a-z]+\s*=", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
    "htmx inline code (hx-on, js: values)": re.compile(r"hx-on|hx-vars|hx-vals=.{0,3}js:", re.I),
}


def test_templates_hold_no_inline_code_or_style() -> None:
    """What the CSP would block in a browser is caught here, in every template."""
    assert len(TEMPLATE_FILES) > 50
    found = []
    for path in TEMPLATE_FILES:
        text = path.read_text()
        for what, pattern in INLINE_CODE.items():
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(ROOT)}:{line}: {what}")
    assert found == []
