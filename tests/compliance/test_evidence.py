"""Evidence bundles: built, verified offline, and every tampering detected precisely."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import zipfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from django_tenants.utils import tenant_context

from compliance.audit import HASHED_FIELDS as WRITER_FIELDS
from compliance.bundle_verify import HASHED_FIELDS as VERIFIER_FIELDS
from compliance.bundle_verify import verify_bundle
from compliance.evidence import evidence_export_build, evidence_export_request, export_file_path
from compliance.models import AuditEntry, EvidenceExport, ViolationRecord
from compliance.services import audit_record, violation_review_create
from compliance.signing import generate_signing_key
from compliance.violations import violation_records_create
from core.exceptions import ApplicationError
from core.request_context import acting_as

pytestmark = pytest.mark.django_db


def test_verifier_hashes_the_same_fields_as_the_writer():
    assert tuple(VERIFIER_FIELDS) == tuple(WRITER_FIELDS)


@pytest.fixture
def bundle(tenant, signing_key, make_event) -> Path:
    """A bundle of alpha with 6 fresh audit entries, 3 violation records and a review."""
    for i in range(6):
        audit_record(
            tenant_slug=tenant.schema_name,
            action="thing.changed",
            object_type="thing",
            object_id=i,
            before={"n": i},
            after={"n": i + 1, "note": 'naïve, "quoted", with, commas\nand a newline'},
        )
    now = timezone.now()
    with tenant_context(tenant):
        violation_records_create(
            events=[
                make_event(
                    timestamp=now - timedelta(minutes=5),
                    policy_violations=[{"policy": "pii", "severity": "high", "action": "blocked"}],
                    output="reach me at bob@example.com",
                ),
                make_event(
                    timestamp=now - timedelta(minutes=4),
                    policy_violations=[
                        {"policy": "toxicity", "severity": "low", "action": "flagged"},
                        {"policy": "jailbreak", "severity": "critical", "action": "blocked"},
                    ],
                ),
            ]
        )
        record = ViolationRecord.objects.filter(policy="pii").latest("id")
        with acting_as("officer@alpha.test", actor_type="user", actor_id="42"):
            violation_review_create(record=record, state="confirmed", note="real leak")
            export = evidence_export_request(
                period_start=now - timedelta(hours=1), period_end=now + timedelta(hours=1)
            )
        export = evidence_export_build(export_id=export.pk)
        assert export.status == "done", export.message
        path = export_file_path(export, tenant_slug=tenant.schema_name)
    assert path is not None
    return path


def _rewrite(src: Path, dst: Path, member: str, change: Callable[[bytes], bytes]) -> Path:
    with zipfile.ZipFile(src) as old, zipfile.ZipFile(dst, "w") as new:
        for info in old.infolist():
            data = old.read(info.filename)
            new.writestr(info.filename, change(data) if info.filename == member else data)
    return dst


def _lines(change: Callable[[list[bytes]], list[bytes]]) -> Callable[[bytes], bytes]:
    def apply(data: bytes) -> bytes:
        return b"".join(line + b"\n" for line in change(data.split(b"\n")[:-1]))

    return apply


def test_bundle_contents_and_manifest(bundle, tenant):
    with zipfile.ZipFile(bundle) as zf:
        names = set(zf.namelist())
        manifest = json.loads(zf.read("manifest.json"))
        entries = [json.loads(x) for x in zf.read("audit/entries.jsonl").splitlines()]
    assert {
        "manifest.json",
        "manifest.sig",
        "public_key.pem",
        "README.txt",
        "verify_bundle.py",
        "audit/entries.jsonl",
        "audit/entries.csv",
        "violations/records.jsonl",
        "violations/records.csv",
        "violations/reviews.jsonl",
        "violations/reviews.csv",
        "checkpoints/checkpoints.jsonl",
        "index/audit/entries.jsonl.lines",
    } <= names
    assert manifest["tenant"]["slug"] == tenant.schema_name
    # Other committed rows may share the period: ours must be there, counted in the manifest.
    with zipfile.ZipFile(bundle) as zf:
        records = [json.loads(x) for x in zf.read("violations/records.jsonl").splitlines()]
        reviews = [json.loads(x) for x in zf.read("violations/reviews.jsonl").splitlines()]
    assert manifest["counts"]["violation_records"] == len(records)
    assert manifest["counts"]["violation_reviews"] == len(reviews) >= 1
    ours = [r for r in records if r["policy"] in {"pii", "toxicity", "jailbreak"}]
    assert len(ours) >= 3 and any("[EMAIL]" in r["excerpt"] for r in ours)
    assert any(r["note"] == "real leak" for r in reviews)
    assert manifest["counts"]["audit_entries"] == len(entries) >= 7
    assert manifest["audit"]["first_seq"] == entries[0]["seq"]
    assert manifest["audit"]["last_seq"] == entries[-1]["seq"]
    assert manifest["audit"]["last_entry_hash"] == entries[-1]["entry_hash"]
    assert set(manifest["files"]) == names - {"manifest.json", "manifest.sig"}
    # The export itself is in the audit log.
    assert AuditEntry.objects.filter(
        chain=tenant.schema_name, action="evidence_export.completed"
    ).exists()


def test_intact_bundle_verifies_in_vigil_and_with_the_bundled_script(bundle, tmp_path):
    report = verify_bundle(str(bundle))
    assert report.ok, report.problems
    call_command("verify_evidence", str(bundle))
    with zipfile.ZipFile(bundle) as zf:
        zf.extract("verify_bundle.py", tmp_path)
    # Standalone: a fresh interpreter that cannot import Vigil (-I, run from elsewhere).
    result = subprocess.run(
        [sys.executable, "-I", str(tmp_path / "verify_bundle.py"), str(bundle)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "VERIFIED" in result.stdout


def test_one_changed_byte_is_located(bundle, tmp_path):
    def flip(lines: list[bytes]) -> list[bytes]:
        at = lines[1].index(b'"action":"') + len(b'"action":"')
        changed = b"X" if lines[1][at : at + 1] != b"X" else b"Y"
        lines[1] = lines[1][:at] + changed + lines[1][at + 1 :]
        return lines

    tampered = _rewrite(bundle, tmp_path / "t.zip", "audit/entries.jsonl", _lines(flip))
    report = verify_bundle(str(tampered))
    assert not report.ok
    assert "audit/entries.jsonl: line 2 was changed (its SHA-256 is not the signed one)" in (
        report.problems
    )
    assert any(
        p.startswith("audit/entries.jsonl line 2 (seq ")
        and "content does not match its entry_hash" in p
        for p in report.problems
    ), report.problems


def test_changed_byte_in_a_violation_csv_is_located(bundle, tmp_path):
    def flip(lines: list[bytes]) -> list[bytes]:
        lines[2] = lines[2][:-1] + (b"X" if lines[2][-1:] != b"X" else b"Y")
        return lines

    tampered = _rewrite(bundle, tmp_path / "t.zip", "violations/records.csv", _lines(flip))
    assert verify_bundle(str(tampered)).problems == [
        "violations/records.csv: line 3 was changed (its SHA-256 is not the signed one)"
    ]


def test_removed_line_is_located(bundle, tmp_path):
    def drop(lines: list[bytes]) -> list[bytes]:
        del lines[2]
        return lines

    tampered = _rewrite(bundle, tmp_path / "t.zip", "audit/entries.jsonl", _lines(drop))
    problems = verify_bundle(str(tampered)).problems
    assert any(p.startswith("audit/entries.jsonl: line 3 was removed") for p in problems), problems
    assert any("is missing (it was removed)" in p for p in problems), problems
    assert any("prev_hash does not link to line 2" in p for p in problems), problems


def test_swapped_lines_are_located(bundle, tmp_path):
    def swap(lines: list[bytes]) -> list[bytes]:
        lines[1], lines[2] = lines[2], lines[1]
        return lines

    tampered = _rewrite(bundle, tmp_path / "t.zip", "audit/entries.jsonl", _lines(swap))
    problems = verify_bundle(str(tampered)).problems
    assert "audit/entries.jsonl: lines 2 and 3 are swapped" in problems, problems
    assert any("entries are out of order" in p for p in problems), problems


def test_inserted_line_is_located(bundle, tmp_path):
    def insert(lines: list[bytes]) -> list[bytes]:
        forged = json.loads(lines[1])
        forged["action"] = "member.removed"
        lines.insert(2, json.dumps(forged, sort_keys=True, separators=(",", ":")).encode())
        return lines

    tampered = _rewrite(bundle, tmp_path / "t.zip", "audit/entries.jsonl", _lines(insert))
    problems = verify_bundle(str(tampered)).problems
    assert "audit/entries.jsonl: line 3 was inserted (it is not in the signed index)" in problems, (
        problems
    )
    assert any("(an entry was inserted)" in p for p in problems), problems


def test_edited_manifest_breaks_the_signature(bundle, tmp_path):
    tampered = _rewrite(
        bundle,
        tmp_path / "t.zip",
        "manifest.json",
        lambda d: d.replace(b'"audit_entries"', b'"audit_entries" ', 1),
    )
    problems = verify_bundle(str(tampered)).problems
    assert problems[0].startswith("manifest.sig: the signature does not verify")


def test_added_file_and_untrusted_key_are_reported(bundle, tmp_path):
    added = tmp_path / "added.zip"
    _rewrite(bundle, added, "README.txt", lambda d: d)
    with zipfile.ZipFile(added, "a") as zf:
        zf.writestr("audit/extra.jsonl", b"{}\n")
    assert verify_bundle(str(added)).problems == [
        "audit/extra.jsonl: file is not listed in the signed manifest (added later)"
    ]
    other = tmp_path / "other.pem"
    generate_signing_key(path=other)
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(other.read_bytes(), password=None)
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    problems = verify_bundle(str(bundle), pem).problems
    assert problems == [
        "public_key.pem: the bundle was signed with a different key than the trusted one"
    ]
    with pytest.raises(CommandError):
        call_command("verify_evidence", str(added))


def test_export_request_validates_and_is_audited(tenant, signing_key):
    now = timezone.now()
    with tenant_context(tenant):
        with pytest.raises(ApplicationError) as excinfo:
            evidence_export_request(period_start=now, period_end=now - timedelta(days=1))
        assert "period_end" in excinfo.value.details
        with pytest.raises(ApplicationError) as excinfo:
            evidence_export_request(
                period_start=now - timedelta(days=1),
                period_end=now,
                include_audit=False,
                include_violations=False,
            )
        assert "include" in excinfo.value.details
        export = evidence_export_request(period_start=now - timedelta(days=1), period_end=now)
        assert EvidenceExport.objects.get(pk=export.pk).status == "pending"
    entry = AuditEntry.objects.filter(chain=tenant.schema_name).order_by("-seq").first()
    assert entry is not None
    assert (entry.action, entry.object_id) == ("evidence_export.requested", str(export.pk))


def test_export_without_signing_key_fails_in_place(tenant, tmp_path, settings):
    settings.VIGIL_SIGNING_KEY_PATH = tmp_path / "none.pem"
    now = timezone.now()
    with tenant_context(tenant), pytest.raises(ApplicationError) as excinfo:
        evidence_export_request(period_start=now - timedelta(days=1), period_end=now)
    assert "create_signing_key" in excinfo.value.details["signing_key"]


def test_bundle_starting_mid_chain_verifies_from_its_first_prev_hash(tenant, signing_key):
    entries = [
        audit_record(tenant_slug=tenant.schema_name, action="thing.changed", object_type="thing")
        for _ in range(4)
    ]
    with tenant_context(tenant):
        with acting_as("officer"):
            export = evidence_export_request(
                period_start=entries[2].occurred_at, period_end=timezone.now() + timedelta(hours=1)
            )
        export = evidence_export_build(export_id=export.pk)
        path = export_file_path(export, tenant_slug=tenant.schema_name)
    assert path is not None
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    assert manifest["audit"]["first_seq"] == entries[2].seq > 1
    assert manifest["audit"]["first_prev_hash"] == entries[1].entry_hash
    report = verify_bundle(str(path))
    assert report.ok, report.problems


def test_export_files_cannot_escape_the_tenant_folder(tenant, signing_key):
    export = EvidenceExport(
        file_name="../beta/vigil-evidence-beta-20260101-20260102-0123456789ab.zip"
    )
    assert export_file_path(export, tenant_slug=tenant.schema_name) is None
    export.file_name = "/etc/passwd"
    assert export_file_path(export, tenant_slug=tenant.schema_name) is None


def test_empty_period_still_gives_a_verifiable_bundle(tenant, signing_key):
    with tenant_context(tenant):
        with acting_as("officer"):
            export = evidence_export_request(
                period_start=timezone.now() - timedelta(days=3650),
                period_end=timezone.now() - timedelta(days=3000),
            )
        export = evidence_export_build(export_id=export.pk)
        path = export_file_path(export, tenant_slug=tenant.schema_name)
    assert export.status == "done" and path is not None
    assert export.counts["audit_entries"] == 0 and export.counts["violation_records"] == 0
    report = verify_bundle(str(path))
    assert report.ok, report.problems


def test_stale_exports_are_failed_and_the_limit_applies(tenant, signing_key):
    now = timezone.now()
    with tenant_context(tenant):
        stale = EvidenceExport.objects.create(
            requested_by_id="1",
            requested_by_label="x",
            period_start=now - timedelta(days=2),
            period_end=now,
            created_at=now - timedelta(hours=3),
        )
        for _ in range(3):
            evidence_export_request(period_start=now - timedelta(days=1), period_end=now)
        assert EvidenceExport.objects.get(pk=stale.pk).status == "failed"
        with pytest.raises(ApplicationError) as excinfo:
            evidence_export_request(period_start=now - timedelta(days=1), period_end=now)
    assert "still building" in excinfo.value.details["form"]


def test_openssl_alone_verifies_the_manifest_signature(bundle, tmp_path):
    """The README's independent check, without Python or Vigil: OpenSSL 3 and the bundle."""
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(tmp_path)
        readme = zf.read("README.txt").decode()
    assert "openssl pkeyutl -verify" in readme
    (tmp_path / "manifest.sig.bin").write_bytes(
        base64.b64decode((tmp_path / "manifest.sig").read_bytes())
    )
    command = [
        "openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "public_key.pem", "-rawin",
        "-in", "manifest.json", "-sigfile", "manifest.sig.bin",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, check=False)
    assert result.returncode == 0 and "Signature Verified Successfully" in result.stdout
    manifest = json.loads((tmp_path / "manifest.json").read_bytes())
    script = (tmp_path / "verify_bundle.py").read_bytes()
    assert hashlib.sha256(script).hexdigest() == manifest["files"]["verify_bundle.py"]["sha256"]
    (tmp_path / "manifest.json").write_bytes(
        (tmp_path / "manifest.json").read_bytes().replace(b'"format"', b'"format" ', 1)
    )
    forged = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, check=False)
    assert forged.returncode != 0
