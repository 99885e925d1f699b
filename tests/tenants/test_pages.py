"""Tenant pages and the ops console: login, roles, htmx forms, isolation."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from compliance.models import AuditEntry
from tenants.models import ApiKey, Membership
from tests.conftest import TEST_PASSWORD, host_of, make_user

pytestmark = pytest.mark.django_db


def test_anonymous_tenant_page_redirects_to_login(tenant, tenant_client):
    response = tenant_client(tenant).get("/settings/members/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_login_and_logout_on_tenant_host_are_audited(tenant, admin_user):
    client = Client(HTTP_HOST=host_of(tenant))
    response = client.post("/login/", {"username": admin_user.username, "password": TEST_PASSWORD})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    login_entry = AuditEntry.objects.filter(chain="alpha", action="auth.login").latest("seq")
    assert login_entry.actor_type == "user" and login_entry.actor_label == admin_user.username
    client.post("/logout/")
    assert AuditEntry.objects.filter(chain="alpha", action="auth.logout").exists()
    assert client.get("/").status_code == 302


def test_failed_login_shows_error_and_is_audited(tenant, admin_user):
    client = Client(HTTP_HOST=host_of(tenant))
    response = client.post("/login/", {"username": admin_user.username, "password": "wrong"})
    assert response.status_code == 200
    assert b"Please enter a correct" in response.content
    entry = AuditEntry.objects.filter(chain="alpha", action="auth.login_failed").latest("seq")
    assert entry.after["username"] == admin_user.username


def test_member_of_beta_cannot_log_in_on_alpha(tenant, other_tenant, member_factory):
    beta_admin = member_factory(other_tenant, "admin")
    client = Client(HTTP_HOST=host_of(tenant))
    response = client.post("/login/", {"username": beta_admin.username, "password": TEST_PASSWORD})
    assert response.status_code == 200
    assert b"no access to this tenant" in response.content


def test_beta_user_with_alpha_session_gets_403_on_alpha_pages(
    tenant, other_tenant, member_factory, tenant_client
):
    beta_admin = member_factory(other_tenant, "admin")
    client = tenant_client(tenant, beta_admin)
    for path in ("/", "/settings/members/", "/settings/api-keys/"):
        assert client.get(path).status_code == 403, path


@pytest.mark.parametrize(
    ("role", "members_status"),
    [("admin", 200), ("analyst", 403), ("compliance", 403), ("reviewer", 403)],
)
def test_settings_pages_only_for_admins(
    tenant, member_factory, tenant_client, role, members_status
):
    client = tenant_client(tenant, member_factory(tenant, role))
    assert client.get("/settings/members/").status_code == members_status
    assert client.get("/settings/api-keys/").status_code == members_status
    assert client.get("/").status_code == 200


def test_admin_invites_member_with_htmx_partial(tenant, admin_user, tenant_client):
    client = tenant_client(tenant, admin_user)
    response = client.post(
        "/settings/members/",
        {"email": "invitee@example.test", "role": "analyst"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert b"<html" not in response.content  # the partial, not the page
    assert b"invitee@example.test" in response.content
    assert Membership.objects.filter(
        tenant=tenant, user__email="invitee@example.test", role="analyst"
    ).exists()


def test_invite_errors_are_shown_in_place(tenant, admin_user, tenant_client):
    client = tenant_client(tenant, admin_user)
    response = client.post(
        "/settings/members/", {"email": "not-an-email", "role": "analyst"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert b"field-error" in response.content and b"valid email" in response.content
    response = client.post(
        "/settings/members/", {"email": admin_user.email, "role": "admin"}, HTTP_HX_REQUEST="true"
    )
    assert b"already a member" in response.content


def test_admin_changes_role_and_removes_member(tenant, admin_user, member_factory, tenant_client):
    analyst = member_factory(tenant, "analyst")
    membership = Membership.objects.get(user=analyst, tenant=tenant)
    client = tenant_client(tenant, admin_user)
    client.post(
        f"/settings/members/{membership.pk}/role", {"role": "reviewer"}, HTTP_HX_REQUEST="true"
    )
    assert Membership.objects.get(pk=membership.pk).role == "reviewer"
    client.post(f"/settings/members/{membership.pk}/remove", HTTP_HX_REQUEST="true")
    assert not Membership.objects.filter(pk=membership.pk).exists()


def test_members_of_beta_are_404_from_alpha_admin(
    tenant, other_tenant, admin_user, member_factory, tenant_client
):
    beta_member = Membership.objects.get(
        user=member_factory(other_tenant, "analyst"), tenant=other_tenant
    )
    client = tenant_client(tenant, admin_user)
    assert (
        client.post(f"/settings/members/{beta_member.pk}/role", {"role": "admin"}).status_code
        == 404
    )
    assert client.post(f"/settings/members/{beta_member.pk}/remove").status_code == 404
    assert Membership.objects.get(pk=beta_member.pk).role == "analyst"


def test_admin_creates_key_shown_once(tenant, admin_user, tenant_client):
    client = tenant_client(tenant, admin_user)
    response = client.post(
        "/settings/api-keys/",
        {"name": "backend", "scopes": ["ingest", "read"]},
        HTTP_HX_REQUEST="true",
    )
    match = re.search(rb'id="new-key-value">(vk_[A-Za-z0-9_\-]+)<', response.content)
    assert match, response.content[:500]
    raw_key = match.group(1).decode()
    listing = client.get("/settings/api-keys/")
    assert raw_key.encode() not in listing.content
    assert ApiKey.objects.get(tenant=tenant, name="backend").prefix.encode() in listing.content
    assert (
        Client().get("/api/v1/tenant", HTTP_AUTHORIZATION=f"Bearer {raw_key}").json()["slug"]
        == "alpha"
    )


def test_key_form_requires_a_scope(tenant, admin_user, tenant_client):
    client = tenant_client(tenant, admin_user)
    response = client.post("/settings/api-keys/", {"name": "noscope"}, HTTP_HX_REQUEST="true")
    assert b"field-error" in response.content
    assert not ApiKey.objects.filter(name="noscope").exists()


def test_revoke_and_rotate_from_the_page(tenant, admin_user, api_key_factory, tenant_client):
    api_key_factory(tenant, ["ingest"])
    key = ApiKey.objects.filter(tenant=tenant).latest("created_at")
    client = tenant_client(tenant, admin_user)
    response = client.post(
        f"/settings/api-keys/{key.pk}/rotate", {"grace_seconds": "3600"}, HTTP_HX_REQUEST="true"
    )
    assert b"new-key-value" in response.content
    key.refresh_from_db()
    assert key.replaced_by_id is not None
    client.post(f"/settings/api-keys/{key.replaced_by_id}/revoke", HTTP_HX_REQUEST="true")
    assert ApiKey.objects.get(pk=key.replaced_by_id).revoked_at is not None


def test_keys_of_beta_are_404_from_alpha(
    tenant, other_tenant, admin_user, api_key_factory, tenant_client
):
    api_key_factory(other_tenant, ["ingest"])
    beta_key = ApiKey.objects.filter(tenant=other_tenant).latest("created_at")
    client = tenant_client(tenant, admin_user)
    assert client.post(f"/settings/api-keys/{beta_key.pk}/revoke").status_code == 404
    assert (
        client.post(f"/settings/api-keys/{beta_key.pk}/rotate", {"grace_seconds": "0"}).status_code
        == 404
    )
    assert ApiKey.objects.get(pk=beta_key.pk).revoked_at is None


def test_staff_view_is_read_only_and_audited(tenant, staff_user, tenant_client):
    client = tenant_client(tenant, staff_user)
    response = client.get("/settings/members/")
    assert response.status_code == 200
    assert b"read-only" in response.content
    viewed = AuditEntry.objects.filter(
        chain="alpha", action="staff.viewed_tenant", actor_id=str(staff_user.pk)
    )
    assert viewed.count() == 1
    client.get("/settings/api-keys/")
    assert viewed.count() == 1
    response = client.post("/settings/members/", {"email": "x@example.test", "role": "admin"})
    assert response.status_code == 403
    assert not Membership.objects.filter(user__email="x@example.test").exists()


def test_unknown_host_is_a_404_page_not_a_500(db):
    response = Client(HTTP_HOST="nobody.localhost").get("/")
    assert response.status_code == 404
    assert b"Unknown host" in response.content


def test_disallowed_host_is_400(db):
    response = Client(HTTP_HOST="evil.example.com").get("/")
    assert response.status_code == 400


def test_suspended_tenant_pages_are_refused(tenant, admin_user, tenant_client):
    from tenants.services import tenant_set_status

    tenant_set_status(tenant=tenant, status="suspended")
    response = tenant_client(tenant, admin_user).get("/")
    assert response.status_code == 403
    assert b"suspended" in response.content


def test_ops_console_only_for_staff(tenant, staff_user, admin_user, public_client):
    assert public_client(admin_user).get("/ops/tenants/").status_code == 403
    assert public_client().get("/ops/tenants/").status_code == 302
    response = public_client(staff_user).get("/ops/tenants/")
    assert response.status_code == 200
    assert b"Alpha Corp" in response.content and b"Beta Industries" in response.content


def test_ops_console_is_not_served_on_tenant_hosts(tenant, staff_user, tenant_client):
    assert tenant_client(tenant, staff_user).get("/ops/tenants/").status_code == 404


def test_ops_suspends_and_reactivates(tenant, staff_user, public_client):
    client = public_client(staff_user)
    client.post("/ops/tenants/alpha/status", {"status": "suspended"}, HTTP_HX_REQUEST="true")
    assert tenant.__class__.objects.get(pk=tenant.pk).status == "suspended"
    client.post("/ops/tenants/alpha/status", {"status": "active"}, HTTP_HX_REQUEST="true")
    assert tenant.__class__.objects.get(pk=tenant.pk).status == "active"
    response = client.post("/ops/tenants/alpha/status", {"status": "bogus"}, HTTP_HX_REQUEST="true")
    assert b"form-error" in response.content
    assert client.post("/ops/tenants/nosuch/status", {"status": "active"}).status_code == 404


def test_ops_create_tenant_form_validates_in_place(tenant, staff_user, public_client):
    response = public_client(staff_user).post(
        "/ops/tenants/", {"slug": "Bad Slug", "name": "X"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert b"2-41 characters" in response.content


def test_public_home_sends_a_single_tenant_member_to_their_tenant(
    tenant, admin_user, public_client
):
    response = public_client(admin_user).get("/")
    assert response.status_code == 302
    assert "alpha.localhost" in response["Location"]


def test_public_home_lists_tenants_for_multi_tenant_users(tenant, other_tenant, public_client):
    user = make_user()
    Membership.objects.create(user=user, tenant=tenant, role="analyst")
    Membership.objects.create(user=user, tenant=other_tenant, role="admin")
    response = public_client(user).get("/")
    assert response.status_code == 200
    assert b"Alpha Corp" in response.content and b"Beta Industries" in response.content


def test_login_is_blocked_after_repeated_failures(tenant, member_factory):
    from django.core.cache import cache
    from django_tenants.utils import schema_context

    from tenants.login_guard import MAX_FAILURES_PER_USER_AND_IP, _keys

    user = member_factory(tenant, "admin")
    with schema_context("public"):
        cache.delete_many(list(_keys(user.username, "127.0.0.1")))
    client = Client(HTTP_HOST=host_of(tenant))
    for _ in range(MAX_FAILURES_PER_USER_AND_IP):
        assert (
            client.post("/login/", {"username": user.username, "password": "nope"}).status_code
            == 200
        )
    response = client.post("/login/", {"username": user.username, "password": TEST_PASSWORD})
    assert response.status_code == 429
    assert b"Too many failed attempts" in response.content
    assert AuditEntry.objects.filter(
        chain="alpha", action="auth.login_failed", after__reason__startswith="blocked"
    ).exists()
    with schema_context("public"):
        cache.delete_many(list(_keys(user.username, "127.0.0.1")))
    assert (
        client.post("/login/", {"username": user.username, "password": TEST_PASSWORD}).status_code
        == 302
    )


def test_key_form_preselects_ingest_scope(tenant, admin_user, tenant_client):
    response = tenant_client(tenant, admin_user).get("/settings/api-keys/")
    assert re.search(rb'value="ingest"\s+checked', response.content)
