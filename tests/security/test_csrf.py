"""CSRF: every form carries the token, and no page accepts a POST without it.

Django's test Client skips CSRF checks unless asked; these clients enforce them, as a
browser would meet them, on every routed tenant page and ops-console page.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tests.conftest import host_of
from tests.security.test_isolation import TENANT_PAGES, routes

ROOT = Path(__file__).resolve().parents[2]
FORM = re.compile(r"<form\b(?P<attrs>[^>]*)>(?P<body>.*?)</form>", re.S | re.I)
OPS_PAGES = [
    path for path in routes("core.urls_public") if path.startswith("/ops/") or path == "/logout/"
]


def test_every_post_form_in_the_templates_carries_the_csrf_token() -> None:
    missing = []
    forms = 0
    for path in sorted(ROOT.glob("templates/**/*.html")):
        for match in FORM.finditer(path.read_text()):
            attrs = match.group("attrs").lower()
            if 'method="post"' not in attrs and "hx-post" not in attrs:
                continue
            forms += 1
            if "{% csrf_token %}" not in match.group("body"):
                missing.append(f"{path.relative_to(ROOT)}: <form{match.group('attrs')[:60]}>")
    assert forms > 20
    assert missing == []


def test_htmx_requests_send_the_token_from_the_page() -> None:
    base = (ROOT / "templates" / "base.html").read_text()
    assert """hx-headers='{"X-CSRFToken": "{{ csrf_token }}"}'""" in base


@pytest.mark.django_db
@pytest.mark.parametrize("path", TENANT_PAGES)
def test_tenant_pages_refuse_a_post_without_the_token(
    path: str, tenant: Any, member_factory: Callable[..., Any]
) -> None:
    client = Client(HTTP_HOST=host_of(tenant), enforce_csrf_checks=True)
    client.force_login(member_factory(tenant, "admin"))
    response = client.post(path, {"name": "forged"})
    assert response.status_code in (403, 404, 405), (path, response.status_code)


@pytest.mark.django_db
@pytest.mark.parametrize("path", OPS_PAGES)
def test_ops_console_refuses_a_post_without_the_token(path: str, staff_user: Any) -> None:
    client = Client(HTTP_HOST="localhost", enforce_csrf_checks=True)
    client.force_login(staff_user)
    response = client.post(path, {"name": "forged"})
    assert response.status_code in (403, 404, 405), (path, response.status_code)


@pytest.mark.django_db
def test_login_form_refuses_a_post_without_the_token(tenant: Any) -> None:
    client = Client(HTTP_HOST=host_of(tenant), enforce_csrf_checks=True)
    response = client.post("/login/", {"username": "a@b.test", "password": "x" * 12})
    assert response.status_code == 403
