"""Staff open a tenant from the ops console and land logged in on its host, read-only."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import signing
from django.test import Client

from compliance.models import AuditEntry
from tenants.staff_handoff import SALT, staff_handoff_token_create
from tests.conftest import host_of

pytestmark = pytest.mark.django_db


def _open_from_ops(public_client, staff_user, slug: str, next_path: str = "/cost/?range=7d"):
    response = public_client(staff_user).get(f"/ops/tenants/{slug}/open", {"next": next_path})
    assert response.status_code == 302
    target = urlsplit(response["Location"])
    return target, parse_qs(target.query)


def test_ops_link_logs_staff_in_on_the_tenant_host(tenant, staff_user, public_client):
    target, query = _open_from_ops(public_client, staff_user, tenant.schema_name)
    assert target.hostname == host_of(tenant) and target.path == "/staff/enter"
    browser = Client(HTTP_HOST=host_of(tenant))  # a fresh session: nobody logged in here
    assert browser.get("/cost/").status_code == 302  # to the login page

    landed = browser.get("/staff/enter", {"token": query["token"][0], "next": query["next"][0]})
    assert landed.status_code == 302 and landed["Location"] == "/cost/?range=7d"
    page = browser.get("/cost/?range=7d")
    assert page.status_code == 200 and b"read-only" in page.content
    entered = AuditEntry.objects.filter(
        chain=tenant.schema_name, action="staff.entered_tenant", actor_id=str(staff_user.pk)
    )
    assert entered.count() == 1
    # Still read-only: a write is refused.
    assert browser.post("/settings/members/", {"email": "x@example.test"}).status_code == 403


def test_a_token_works_once_and_only_on_its_tenant(tenant, other_tenant, staff_user, public_client):
    _, query = _open_from_ops(public_client, staff_user, tenant.schema_name)
    token = query["token"][0]
    on_beta = Client(HTTP_HOST=host_of(other_tenant)).get("/staff/enter", {"token": token})
    assert on_beta.status_code == 403 and b"another tenant" in on_beta.content
    first = Client(HTTP_HOST=host_of(tenant)).get("/staff/enter", {"token": token})
    assert first.status_code == 302
    replay = Client(HTTP_HOST=host_of(tenant)).get("/staff/enter", {"token": token})
    assert replay.status_code == 403 and b"already used" in replay.content


def test_forged_expired_and_non_staff_tokens_are_refused(tenant, staff_user, admin_user):
    browser = Client(HTTP_HOST=host_of(tenant))
    forged = signing.dumps({"u": staff_user.pk, "t": tenant.schema_name, "n": "x"}, salt="other")
    assert browser.get("/staff/enter", {"token": forged}).status_code == 403
    expired = signing.dumps(
        {"u": staff_user.pk, "t": tenant.schema_name, "n": "y"}, salt=SALT, compress=True
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("tenants.staff_handoff.MAX_AGE_S", -1)
        refused = browser.get("/staff/enter", {"token": expired})
    assert refused.status_code == 403 and b"expired" in refused.content
    # A token naming a user who is not staff (or was demoted since) does not log in.
    not_staff = signing.dumps(
        {"u": admin_user.pk, "t": tenant.schema_name, "n": "z"}, salt=SALT, compress=True
    )
    assert browser.get("/staff/enter", {"token": not_staff}).status_code == 403
    assert browser.get("/cost/").status_code == 302


def test_only_staff_get_a_token_and_next_stays_on_the_host(
    tenant, staff_user, admin_user, public_client
):
    assert (
        public_client(admin_user).get(f"/ops/tenants/{tenant.schema_name}/open").status_code == 403
    )
    assert public_client(staff_user).get("/ops/tenants/nosuch/open").status_code == 404
    _, query = _open_from_ops(public_client, staff_user, tenant.schema_name, "https://evil.test/")
    assert query["next"] == ["/"]
    token = staff_handoff_token_create(user=staff_user, tenant_slug=tenant.schema_name)
    response = Client(HTTP_HOST=host_of(tenant)).get(
        "/staff/enter", {"token": token, "next": "//evil.test/x"}
    )
    assert response["Location"] == "/"


def test_ops_console_links_go_through_the_handoff(tenant, staff_user, public_client):
    page = public_client(staff_user).get("/ops/")
    assert page.status_code == 200
    assert f"/ops/tenants/{tenant.schema_name}/open".encode() in page.content
