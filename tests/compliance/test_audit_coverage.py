"""Walk the main state-changing actions through the pages, as people do them, and check that
each left its audit entry: actor, before/after, and where the request came from."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from compliance.evidence import evidence_export_build
from compliance.models import AuditEntry, ViolationRecord
from compliance.retention import retention_run
from compliance.violations import violation_records_create
from core.request_context import acting_as
from tenants.models import ApiKey, Membership
from tests.conftest import TEST_PASSWORD, host_of

pytestmark = pytest.mark.django_db
AGENT = "audit-walk/1.0"


def _last(chain: str, action: str) -> AuditEntry:
    entry = AuditEntry.objects.filter(chain=chain, action=action).order_by("-seq").first()
    assert entry is not None, f"no audit entry {action} in chain {chain}"
    return entry


def _from_request(entry: AuditEntry, *, actor: str | None) -> None:
    if actor is not None:
        assert (entry.actor_type, entry.actor_label) == ("user", actor), entry.action
    assert entry.ip == "127.0.0.1", entry.action
    assert entry.user_agent == AGENT, entry.action
    assert len(entry.request_id) == 32, entry.action


def test_every_main_action_leaves_an_audit_entry(
    tenant, member_factory, staff_user, public_client, tenant_client, signing_key, make_event
):
    ops = public_client(staff_user)
    ops.defaults["HTTP_USER_AGENT"] = AGENT
    admin = member_factory(tenant, "admin")
    web = tenant_client(tenant, admin)
    web.defaults["HTTP_USER_AGENT"] = AGENT
    alpha = tenant.schema_name

    # Platform ops: create a tenant, suspend it.
    slug = f"walk_{uuid.uuid4().hex[:8]}"
    ops.post("/ops/tenants/", {"slug": slug, "name": "Walk Ltd"})
    created = _last(slug, "tenant.created")
    _from_request(created, actor=staff_user.email)
    assert created.after["name"] == "Walk Ltd"
    ops.post(f"/ops/tenants/{slug}/status", {"status": "suspended"})
    suspended = _last(slug, "tenant.suspended")
    _from_request(suspended, actor=staff_user.email)
    assert (suspended.before, suspended.after) == ({"status": "active"}, {"status": "suspended"})

    # Tenant admin: invite, change role, remove.
    email = f"walk-{uuid.uuid4().hex[:6]}@example.test"
    web.post("/settings/members/", {"email": email, "role": "analyst"})
    added = _last(alpha, "member.added")
    _from_request(added, actor=admin.email)
    assert added.after == {"email": email, "role": "analyst"}
    membership = Membership.objects.get(tenant=tenant, user__email=email)
    web.post(f"/settings/members/{membership.pk}/role", {"role": "reviewer"})
    changed = _last(alpha, "member.role_changed")
    _from_request(changed, actor=admin.email)
    assert (changed.before["role"], changed.after["role"]) == ("analyst", "reviewer")
    web.post(f"/settings/members/{membership.pk}/remove")
    removed = _last(alpha, "member.removed")
    _from_request(removed, actor=admin.email)
    assert removed.before == {"email": email, "role": "reviewer"}

    # API keys: create, revoke, rotate.
    web.post("/settings/api-keys/", {"name": "walk-key", "scopes": ["ingest"]})
    key_created = _last(alpha, "api_key.created")
    _from_request(key_created, actor=admin.email)
    assert key_created.after["name"] == "walk-key" and key_created.after["scopes"] == ["ingest"]
    key = ApiKey.objects.get(tenant=tenant, name="walk-key")
    web.post(f"/settings/api-keys/{key.pk}/rotate", {"grace_seconds": "0"})
    rotated = _last(alpha, "api_key.rotated")
    _from_request(rotated, actor=admin.email)
    assert rotated.after["replaced_by"] and "revoked_at" in rotated.after
    fresh = ApiKey.objects.filter(tenant=tenant, name="walk-key", revoked_at__isnull=True).get()
    web.post(f"/settings/api-keys/{fresh.pk}/revoke")
    revoked = _last(alpha, "api_key.revoked")
    _from_request(revoked, actor=admin.email)
    assert revoked.before == {"revoked_at": None} and revoked.after["revoked_at"]

    # Login, failed login, logout.
    browser = Client(HTTP_HOST=host_of(tenant), HTTP_USER_AGENT=AGENT)
    browser.post("/login/", {"username": admin.email, "password": "wrong-password-1"})
    failed = _last(alpha, "auth.login_failed")
    _from_request(failed, actor=None)
    assert failed.after == {"username": admin.email, "reason": "bad credentials"}
    browser.post("/login/", {"username": admin.email, "password": TEST_PASSWORD})
    login = _last(alpha, "auth.login")
    _from_request(login, actor=None)
    assert login.after == {"username": admin.email} and login.object_id == str(admin.pk)

    # Platform staff looking at the tenant.
    staff_web = tenant_client(tenant, staff_user)
    staff_web.defaults["HTTP_USER_AGENT"] = AGENT
    staff_web.get("/compliance/audit/")
    viewed = _last(alpha, "staff.viewed_tenant")
    _from_request(viewed, actor=staff_user.email)
    assert viewed.after == {"path": "/compliance/audit/"}

    # Compliance: settings, review, export request and download, retention run.
    web.post(
        "/compliance/settings/",
        {
            "events_retention_days": "365",
            "content_retention_days": "30",
            "records_retention_days": "2557",
            "record_refusals": "on",
        },
    )
    updated = _last(alpha, "compliance_settings.updated")
    _from_request(updated, actor=admin.email)
    assert updated.before["events_retention_days"] == 400
    assert updated.after["events_retention_days"] == 365

    with tenant_context(tenant):
        violation_records_create(
            events=[make_event(policy_violations=[{"policy": "pii", "severity": "high"}])]
        )
        record = ViolationRecord.objects.latest("id")
    web.post(f"/compliance/violations/{record.pk}/", {"state": "remediated", "note": "fixed"})
    reviewed = _last(alpha, "violation.reviewed")
    _from_request(reviewed, actor=admin.email)
    assert (reviewed.before, reviewed.after["state"]) == ({"state": "unreviewed"}, "remediated")

    today = timezone.now().date()
    web.post(
        "/compliance/exports/",
        {
            "start": (today - timedelta(days=1)).isoformat(),
            "end": today.isoformat(),
            "include_audit": "on",
        },
    )
    requested = _last(alpha, "evidence_export.requested")
    _from_request(requested, actor=admin.email)
    assert requested.after["include_audit"] is True

    with tenant_context(tenant):
        export = evidence_export_build(export_id=int(requested.object_id))
    completed = _last(alpha, "evidence_export.completed")
    assert completed.actor_label.startswith("evidence export worker")
    assert completed.after["sha256"] == export.sha256
    web.get(f"/compliance/exports/{export.pk}/download/")
    downloaded = _last(alpha, "evidence_export.downloaded")
    _from_request(downloaded, actor=admin.email)

    with tenant_context(tenant), acting_as("retention sweep"):
        retention_run()
    expired = _last(alpha, "retention.expired")
    assert expired.actor_label == "retention sweep" and "events_deleted" in expired.after

    # Logout last: it ends the session the steps above used.
    browser.post("/logout/")
    logout = _last(alpha, "auth.logout")
    _from_request(logout, actor=admin.email)
