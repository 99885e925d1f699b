from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from compliance.models import AuditEntry
from core.exceptions import ApplicationError
from tenants import selectors, services
from tenants.keys import hash_key
from tenants.models import ApiKey, Membership, Role, Tenant
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("slug", "field_message"),
    [
        ("A", "2-41 characters"),
        ("1abc", "2-41 characters"),
        ("has-dash", "2-41 characters"),
        ("public", "reserved"),
        ("pg_x", "reserved"),
        ("alpha", "already taken"),
    ],
)
def test_tenant_create_rejects_bad_slugs_with_field_message(tenant, slug, field_message):
    with pytest.raises(ApplicationError) as excinfo:
        services.tenant_create(slug=slug, name="X")
    assert field_message in excinfo.value.details["slug"]


def test_tenant_create_requires_a_name(tenant):
    with pytest.raises(ApplicationError) as excinfo:
        services.tenant_create(slug="noname", name="  ")
    assert "name" in excinfo.value.details
    assert not Tenant.objects.filter(schema_name="noname").exists()


def test_suspend_and_reactivate_are_audited(tenant):
    services.tenant_set_status(tenant=tenant, status="suspended")
    assert Tenant.objects.get(pk=tenant.pk).status == "suspended"
    services.tenant_set_status(tenant=tenant, status="active")
    actions = list(
        AuditEntry.objects.filter(chain="alpha")
        .order_by("-seq")
        .values_list("action", flat=True)[:2]
    )
    assert actions == ["tenant.reactivated", "tenant.suspended"]


def test_invite_creates_user_without_password_and_membership(tenant):
    membership = services.member_invite(
        tenant=tenant, email="New.Person@Example.test", role="analyst"
    )
    assert membership.user.email == "new.person@example.test"
    assert not membership.user.has_usable_password()
    entry = AuditEntry.objects.filter(chain="alpha", action="member.added").latest("seq")
    assert entry.after == {"email": "new.person@example.test", "role": "analyst"}


def test_invite_twice_is_a_clear_error(tenant):
    services.member_invite(tenant=tenant, email="twice@example.test", role="analyst")
    with pytest.raises(ApplicationError) as excinfo:
        services.member_invite(tenant=tenant, email="twice@example.test", role="admin")
    assert "already a member" in excinfo.value.details["email"]


def test_invalid_role_is_refused(tenant):
    with pytest.raises(ApplicationError) as excinfo:
        services.member_invite(tenant=tenant, email="r@example.test", role="owner")
    assert "role" in excinfo.value.details


def test_last_admin_can_be_neither_demoted_nor_removed(tenant, member_factory):
    admin = member_factory(tenant, "admin")
    membership = Membership.objects.get(user=admin, tenant=tenant)
    with pytest.raises(ApplicationError):
        services.member_change_role(membership=membership, role="analyst")
    with pytest.raises(ApplicationError):
        services.member_remove(membership=membership)
    second = Membership.objects.get(user=member_factory(tenant, "admin"), tenant=tenant)
    services.member_change_role(membership=membership, role="analyst")
    assert Membership.objects.get(pk=membership.pk).role == "analyst"
    entry = AuditEntry.objects.filter(chain="alpha", action="member.role_changed").latest("seq")
    assert entry.before["role"] == "admin" and entry.after["role"] == "analyst"
    services.member_remove(membership=Membership.objects.get(pk=membership.pk))
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert Membership.objects.filter(pk=second.pk).exists()


def test_api_key_is_stored_only_as_hash(tenant):
    created = services.api_key_create(tenant=tenant, name="backend", scopes=["read", "ingest"])
    row = ApiKey.objects.get(pk=created.api_key.pk)
    assert created.raw_key.startswith("vk_")
    assert row.key_hash == hash_key(created.raw_key)
    assert created.raw_key not in {row.key_hash, row.prefix, row.name}
    assert created.raw_key.startswith(row.prefix)
    assert row.scopes == ["ingest", "read"]
    entry = AuditEntry.objects.filter(chain="alpha", action="api_key.created").latest("seq")
    assert created.raw_key not in str(entry.after)


@pytest.mark.parametrize("scopes", [[], ["write"], ["ingest", "admin"]])
def test_api_key_scopes_are_validated(tenant, scopes):
    with pytest.raises(ApplicationError) as excinfo:
        services.api_key_create(tenant=tenant, name="x", scopes=scopes)
    assert "scopes" in excinfo.value.details


def test_revoked_key_no_longer_resolves(tenant):
    created = services.api_key_create(tenant=tenant, name="k", scopes=["ingest"])
    assert selectors.api_key_resolve(raw_key=created.raw_key).api_key is not None
    services.api_key_revoke(api_key=created.api_key)
    resolution = selectors.api_key_resolve(raw_key=created.raw_key)
    assert resolution.api_key is None and resolution.status == 401
    assert "revoked" in (resolution.error or "")


def test_rotation_with_grace_keeps_old_key_until_it_expires(tenant):
    old = services.api_key_create(tenant=tenant, name="rot", scopes=["ingest"])
    new = services.api_key_rotate(api_key=old.api_key, grace_seconds=3600)
    assert new.api_key.name == "rot" and new.api_key.scopes == ["ingest"]
    assert selectors.api_key_resolve(raw_key=old.raw_key).api_key is not None
    assert selectors.api_key_resolve(raw_key=new.raw_key).api_key is not None
    ApiKey.objects.filter(pk=old.api_key.pk).update(
        revoked_at=timezone.now() - timedelta(seconds=1)
    )
    assert selectors.api_key_resolve(raw_key=old.raw_key).api_key is None


def test_rotation_without_grace_stops_old_key_now(tenant):
    old = services.api_key_create(tenant=tenant, name="rot", scopes=["ingest"])
    services.api_key_rotate(api_key=old.api_key, grace_seconds=0)
    assert selectors.api_key_resolve(raw_key=old.raw_key).api_key is None
    with pytest.raises(ApplicationError):
        services.api_key_rotate(api_key=ApiKey.objects.get(pk=old.api_key.pk))


def test_suspended_tenant_keys_are_refused(tenant):
    created = services.api_key_create(tenant=tenant, name="k", scopes=["ingest"])
    services.tenant_set_status(tenant=tenant, status="suspended")
    resolution = selectors.api_key_resolve(raw_key=created.raw_key)
    assert resolution.api_key is None and resolution.status == 403


def test_lookups_never_cross_tenants(tenant, other_tenant):
    user = make_user()
    membership = Membership.objects.create(user=user, tenant=tenant, role=Role.ANALYST)
    created = services.api_key_create(tenant=tenant, name="k", scopes=["ingest"])
    from django.http import Http404

    with pytest.raises(Http404):
        selectors.membership_get(tenant=other_tenant, membership_id=membership.pk)
    with pytest.raises(Http404):
        selectors.api_key_get(tenant=other_tenant, api_key_id=created.api_key.pk)
