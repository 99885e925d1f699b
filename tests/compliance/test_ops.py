"""Ops console: every audit chain's integrity side by side; staff only."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from compliance.chain import chain_verify
from compliance.models import AuditEntry, ChainVerification
from compliance.services import audit_record
from core.celery import app
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def _chain(entries: int = 2) -> str:
    chain = f"ops_{uuid.uuid4().hex[:8]}"
    for _ in range(entries):
        audit_record(tenant_slug=chain, action="thing.changed", object_type="thing")
    return chain


def test_staff_sees_every_chain_broken_first(staff_user, public_client, signing_key):
    intact, broken = _chain(), _chain(3)
    chain_verify(chain=intact)
    with connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE compliance_auditentry DISABLE TRIGGER auditentry_no_update_delete"
        )
        cursor.execute(
            "UPDATE compliance_auditentry SET action = 'forged' WHERE chain = %s AND seq = 2",
            [broken],
        )
        cursor.execute(
            "ALTER TABLE compliance_auditentry ENABLE TRIGGER auditentry_no_update_delete"
        )
    chain_verify(chain=broken)
    page = public_client(staff_user).get("/ops/compliance/chains/").content.decode()
    assert "failed verification" in page
    assert f"<strong>{broken}</strong> at seq 2" in page
    table = page.split('id="chains-table"')[1]
    assert table.index(broken) < table.index(intact)  # broken chains come first
    assert "Audit chains" in page  # the nav link


def test_only_staff_on_the_public_host(
    tenant, member_factory, public_client, tenant_client, staff_user
):
    assert public_client(make_user()).get("/ops/compliance/chains/").status_code == 403
    assert public_client().get("/ops/compliance/chains/").status_code == 302
    officer = member_factory(tenant, "compliance")
    assert tenant_client(tenant, officer).get("/ops/compliance/chains/").status_code == 404
    assert public_client(make_user()).post("/ops/compliance/chains/verify").status_code == 403


def test_verify_all_is_audited_on_the_platform_chain(
    staff_user, public_client, django_capture_on_commit_callbacks
):
    chain = _chain()
    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = public_client(staff_user).post("/ops/compliance/chains/verify")
    finally:
        app.conf.task_always_eager = False
    assert response.status_code == 302
    entry = AuditEntry.objects.filter(chain="public").order_by("-seq").first()
    assert entry is not None and entry.action == "audit_chain.verification_requested"
    assert entry.actor_label == staff_user.email
    assert ChainVerification.objects.filter(chain=chain, status="ok").exists()


def test_chain_table_query_count_does_not_grow_with_chains(staff_user, public_client):
    client = public_client(staff_user)
    _chain()

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/ops/compliance/chains/").status_code == 200
        return len(ctx.captured_queries)

    before = count()
    for _ in range(4):
        chain_verify(chain=_chain())
    assert count() == before
