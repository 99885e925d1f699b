"""Compliance pages: roles, filters, review form, exports, downloads, and tenant isolation."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from compliance.evidence import evidence_export_build, export_file_path
from compliance.models import AuditEntry, EvidenceExport, ViolationRecord, ViolationReview
from compliance.services import audit_record
from compliance.violations import violation_records_create
from core.celery import app

pytestmark = pytest.mark.django_db

PAGES = [
    "/compliance/audit/",
    "/compliance/violations/",
    "/compliance/exports/",
    "/compliance/exports/status/",
    "/compliance/settings/",
]


@pytest.fixture
def officer(tenant, member_factory):
    return member_factory(tenant, "compliance")


@pytest.fixture
def record(tenant, make_event) -> ViolationRecord:
    event = make_event(
        timestamp=timezone.now() - timedelta(hours=1),
        policy_violations=[{"policy": "pii-leak", "severity": "high", "action": "blocked"}],
        output="card 4111 1111 1111 1111",
    )
    with tenant_context(tenant):
        violation_records_create(events=[event])
        return ViolationRecord.objects.get(event_id=event.event_id)


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("role", ["compliance", "admin"])
def test_compliance_and_admin_see_every_page(tenant, member_factory, tenant_client, path, role):
    client = tenant_client(tenant, member_factory(tenant, role))
    response = client.get(path)
    assert response.status_code == 200
    if path != "/compliance/exports/status/":
        assert b"Compliance" in response.content  # the nav section


@pytest.mark.parametrize("path", PAGES)
def test_other_roles_and_anonymous_are_refused(tenant, member_factory, tenant_client, path):
    assert tenant_client(tenant, member_factory(tenant, "analyst")).get(path).status_code == 403
    assert tenant_client(tenant, member_factory(tenant, "reviewer")).get(path).status_code == 403
    assert tenant_client(tenant).get(path).status_code == 302


@pytest.mark.parametrize("path", PAGES)
def test_other_tenants_officer_is_refused_on_this_host(
    tenant, other_tenant, member_factory, tenant_client, path
):
    outsider = member_factory(other_tenant, "compliance")
    assert tenant_client(tenant, outsider).get(path).status_code == 403


def test_audit_log_lists_filters_and_shows_chain_status(tenant, officer, tenant_client):
    audit_record(
        tenant_slug=tenant.schema_name,
        action="rule.updated",
        object_type="alert_rule",
        object_id=77,
        before={"threshold": 1},
        after={"threshold": 2},
    )
    client = tenant_client(tenant, officer)
    page = client.get("/compliance/audit/").content.decode()
    assert "rule.updated" in page and "threshold" in page
    assert "not yet verified" in page or "intact" in page
    filtered = client.get("/compliance/audit/?action=member.added").content.decode()
    assert "rule.updated" not in filtered.split("<tbody>")[1]
    by_object = client.get(
        "/compliance/audit/?object_type=alert_rule&object_id=77"
    ).content.decode()
    assert "rule.updated" in by_object


def test_audit_log_bad_input_is_answered_in_place(tenant, officer, tenant_client):
    client = tenant_client(tenant, officer)
    for query in ["start=yesterday", "start=2026-02-01&end=2026-01-01", "page=abc", "page=99999"]:
        response = client.get(f"/compliance/audit/?{query}")
        assert response.status_code == 200, query
    assert (
        b"The end is before the start."
        in client.get("/compliance/audit/?start=2026-02-01&end=2026-01-01").content
    )


def test_audit_log_does_not_leak_other_chains(tenant, other_tenant, officer, tenant_client):
    audit_record(tenant_slug=other_tenant.schema_name, action="beta.secret", object_type="x")
    page = tenant_client(tenant, officer).get("/compliance/audit/").content.decode()
    assert "beta.secret" not in page


def test_list_pages_use_a_constant_number_of_queries(tenant, officer, tenant_client, make_event):
    client = tenant_client(tenant, officer)

    def count(path: str) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(path).status_code == 200
        return len(ctx.captured_queries)

    def grow() -> None:
        for i in range(5):
            audit_record(tenant_slug=tenant.schema_name, action="thing.done", object_type="t")
            with tenant_context(tenant):
                violation_records_create(
                    events=[make_event(policy_violations=[{"policy": f"p{i}", "severity": "low"}])]
                )

    grow()
    before = {path: count(path) for path in ("/compliance/audit/", "/compliance/violations/")}
    grow()
    grow()
    after = {path: count(path) for path in ("/compliance/audit/", "/compliance/violations/")}
    assert before == after


def test_violations_list_filters_chart_and_review(
    tenant, officer, tenant_client, record, member_factory
):
    client = tenant_client(tenant, officer)
    page = client.get("/compliance/violations/").content.decode()
    assert "pii-leak" in page and "[CARD]" in page and "4111" not in page
    assert 'id="violation-series"' in page and "unreviewed" in page
    assert (
        "pii-leak"
        not in client.get("/compliance/violations/?severity=low")
        .content.decode()
        .split("<tbody>")[1]
    )
    assert client.get("/compliance/violations/?review_state=bogus").status_code == 200

    detail = f"/compliance/violations/{record.pk}/"
    assert client.get(detail).status_code == 200
    assert (
        f"/events/{record.event_id}/" not in client.get(detail).content.decode()
    )  # not their area
    admin = tenant_client(tenant, member_factory(tenant, "admin"))
    assert f"/events/{record.event_id}/" in admin.get(detail).content.decode()
    missing_note = client.post(detail, {"state": "confirmed", "note": ""})
    assert missing_note.status_code == 200
    assert b"Say why" in missing_note.content
    response = client.post(detail, {"state": "false_positive", "note": "test prompt"})
    assert response.status_code == 200
    with tenant_context(tenant):
        review = ViolationReview.objects.get(record=record)
    assert (review.state, review.note, review.reviewer_label) == (
        "false_positive",
        "test prompt",
        officer.email,
    )
    assert "false positive" in client.get(detail).content.decode()
    listing = client.get("/compliance/violations/?policy=pii-leak").content.decode()
    stats = listing.split('class="stat-row"')[1].split("</div>\n    <h2>")[0]
    assert '<strong>1</strong><span class="muted">false positives' in stats.replace("\n", "")
    entry = AuditEntry.objects.filter(chain=tenant.schema_name).order_by("-seq").first()
    assert entry is not None and entry.action == "violation.reviewed"
    assert entry.actor_label == officer.email


def test_staff_reads_but_cannot_review_or_export(tenant, staff_user, tenant_client, record):
    client = tenant_client(tenant, staff_user)
    assert client.get(f"/compliance/violations/{record.pk}/").status_code == 200
    assert (
        client.post(f"/compliance/violations/{record.pk}/", {"state": "confirmed", "note": "x"})
    ).status_code == 403
    assert (
        client.post(
            "/compliance/exports/", {"start": "2026-01-01", "end": "2026-01-02"}
        ).status_code
        == 403
    )
    assert client.post("/compliance/settings/", {"legal_hold": "on"}).status_code == 403


def test_other_tenants_officer_gets_404_for_these_ids_on_their_host(
    tenant, other_tenant, member_factory, tenant_client, record, signing_key
):
    with tenant_context(tenant):
        export = EvidenceExport.objects.create(
            requested_by_id="1",
            requested_by_label="x",
            period_start=timezone.now() - timedelta(days=1),
            period_end=timezone.now(),
            created_at=timezone.now(),
        )
        export = evidence_export_build(export_id=export.pk)
    assert export.status == "done"
    outsider = tenant_client(other_tenant, member_factory(other_tenant, "compliance"))
    with tenant_context(other_tenant):
        taken = set(ViolationRecord.objects.values_list("pk", flat=True))
        taken_exports = set(EvidenceExport.objects.values_list("pk", flat=True))
    if record.pk not in taken:
        assert outsider.get(f"/compliance/violations/{record.pk}/").status_code == 404
    if export.pk not in taken_exports:
        assert outsider.get(f"/compliance/exports/{export.pk}/download/").status_code == 404
    assert "pii-leak" not in outsider.get("/compliance/violations/").content.decode()


def test_export_request_progress_and_download(tenant, officer, tenant_client, record, signing_key):
    client = tenant_client(tenant, officer)
    today = timezone.now().date()
    bad = client.post(
        "/compliance/exports/",
        {"start": today.isoformat(), "end": "2020-01-01"},
        HTTP_HX_REQUEST="true",
    )
    assert bad.status_code == 200 and b"The end is before the start." in bad.content
    response = client.post(
        "/compliance/exports/",
        {
            "start": (today - timedelta(days=1)).isoformat(),
            "end": today.isoformat(),
            "include_audit": "on",
            "include_violations": "on",
            "include_checkpoints": "on",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    with tenant_context(tenant):
        export = EvidenceExport.objects.filter(requested_by_label=officer.email).get()
    assert export.status == "pending"
    polling = client.get("/compliance/exports/status/", HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 2s"' in polling
    assert client.get(f"/compliance/exports/{export.pk}/download/").status_code == 404  # not ready
    with tenant_context(tenant):
        evidence_export_build(export_id=export.pk)
    listing = client.get("/compliance/exports/status/").content.decode()
    assert "every 2s" not in listing and "Download ZIP" in listing
    download = client.get(f"/compliance/exports/{export.pk}/download/")
    assert download.status_code == 200
    body = b"".join(download.streaming_content)
    with zipfile.ZipFile(io.BytesIO(body)) as zf:
        assert "manifest.sig" in zf.namelist()
    actions = list(
        AuditEntry.objects.filter(
            chain=tenant.schema_name, object_type="evidence_export", object_id=str(export.pk)
        )
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == [
        "evidence_export.requested",
        "evidence_export.completed",
        "evidence_export.downloaded",
    ]


def test_export_without_key_shows_the_fix_in_place(
    tenant, officer, tenant_client, settings, tmp_path
):
    settings.VIGIL_SIGNING_KEY_PATH = tmp_path / "missing.pem"
    response = tenant_client(tenant, officer).post(
        "/compliance/exports/", {"start": "2026-01-01", "end": "2026-01-31", "include_audit": "on"}
    )
    assert response.status_code == 200
    assert b"create_signing_key" in response.content


def test_settings_page_saves_and_audits(tenant, officer, tenant_client):
    client = tenant_client(tenant, officer)
    response = client.post(
        "/compliance/settings/",
        {
            "events_retention_days": "200",
            "content_retention_days": "14",
            "records_retention_days": "2557",
            "legal_hold": "on",
            "legal_hold_reason": "",
        },
    )
    assert response.status_code == 200
    assert b"Say why the hold is placed" in response.content
    client.post(
        "/compliance/settings/",
        {
            "events_retention_days": "200",
            "content_retention_days": "14",
            "records_retention_days": "2557",
            "legal_hold": "on",
            "legal_hold_reason": "Matter 12",
        },
    )
    page = client.get("/compliance/settings/").content.decode()
    assert "Legal hold is on" in page and "Matter 12" in page
    entry = AuditEntry.objects.filter(chain=tenant.schema_name).order_by("-seq").first()
    assert entry is not None and entry.action == "compliance_settings.updated"
    assert entry.after["legal_hold"] is True and entry.actor_label == officer.email
    assert client.post("/compliance/settings/", {"events_retention_days": "x"}).status_code == 200


def test_verify_now_queues_an_audited_verification(
    tenant, officer, staff_user, tenant_client, django_capture_on_commit_callbacks
):
    assert tenant_client(tenant, staff_user).post("/compliance/audit/verify/").status_code == 403
    app.conf.task_always_eager = True
    try:
        client = tenant_client(tenant, officer)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/compliance/audit/verify/")
        assert response.status_code == 302
        page = client.get("/compliance/audit/").content.decode()
        assert "Verification queued" in page
        assert "intact" in page
    finally:
        app.conf.task_always_eager = False
    entry = AuditEntry.objects.filter(
        chain=tenant.schema_name, action="audit_chain.verification_requested"
    ).latest("seq")
    assert entry.actor_label == officer.email


def test_a_removed_zip_shows_no_dead_link(tenant, officer, tenant_client, signing_key):
    with tenant_context(tenant):
        export = EvidenceExport.objects.create(
            requested_by_id="1",
            requested_by_label="gone",
            period_start=timezone.now() - timedelta(days=1),
            period_end=timezone.now(),
            created_at=timezone.now(),
        )
        export = evidence_export_build(export_id=export.pk)
    client = tenant_client(tenant, officer)
    assert (
        f"/compliance/exports/{export.pk}/download/"
        in client.get("/compliance/exports/").content.decode()
    )
    path = export_file_path(export, tenant_slug=tenant.schema_name)
    assert path is not None
    path.unlink()
    page = client.get("/compliance/exports/").content.decode()
    assert f"/compliance/exports/{export.pk}/download/" not in page
    assert "file no longer on the server" in page
    assert client.get(f"/compliance/exports/{export.pk}/download/").status_code == 404
