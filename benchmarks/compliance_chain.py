"""Compliance benchmark: audit write rate, chain verification and evidence export speed.

Everything runs inside one transaction that is rolled back at the end, so the
append-only audit log of the database used is left as it was (triggers refuse
DELETE, but a ROLLBACK of uncommitted rows is fine). Point DATABASE_URL at a
scratch or test database, with a migrated tenant (default `alpha`).

Usage:  DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test_vigil_compliance \\
        .venv/bin/python benchmarks/compliance_chain.py [--entries 50000] [--tenant alpha]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "core.settings")

import django

django.setup()

from django.db import transaction  # noqa: E402
from django.test import override_settings  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_tenants.utils import schema_context  # noqa: E402

from compliance.audit import entry_hash  # noqa: E402
from compliance.bundle_verify import verify_bundle  # noqa: E402
from compliance.chain import chain_verify, checkpoints_create  # noqa: E402
from compliance.evidence import (  # noqa: E402
    evidence_export_build,
    evidence_export_request,
    export_file_path,
)
from compliance.models import AuditChainHead, AuditEntry  # noqa: E402
from compliance.services import audit_record  # noqa: E402
from compliance.signing import generate_signing_key  # noqa: E402
from core.request_context import acting_as  # noqa: E402


class Rollback(Exception):
    pass


def bulk_chain(chain: str, count: int) -> None:
    """Append `count` entries the way audit_record does, but in bulk (hashes computed here)."""
    head, _ = AuditChainHead.objects.select_for_update().get_or_create(
        chain=chain, defaults={"head_hash": "0" * 64}
    )
    seq, previous = head.seq, head.head_hash
    now = timezone.now()
    batch: list[AuditEntry] = []
    for i in range(count):
        seq += 1
        fields = {
            "chain": chain,
            "seq": seq,
            "occurred_at": now + timedelta(microseconds=i),
            "actor_type": "user",
            "actor_id": "1",
            "actor_label": "bench@example.test",
            "actor_role": "admin",
            "action": "rule.updated",
            "object_type": "alert_rule",
            "object_id": str(i % 100),
            "before": {"threshold": i},
            "after": {"threshold": i + 1},
            "ip": "127.0.0.1",
            "user_agent": "bench",
            "request_id": f"{i:032x}",
            "prev_hash": previous,
        }
        fields["entry_hash"] = previous = entry_hash(fields)
        batch.append(AuditEntry(**fields))
        if len(batch) == 5000:
            AuditEntry.objects.bulk_create(batch)
            batch = []
    AuditEntry.objects.bulk_create(batch)
    AuditChainHead.objects.filter(pk=head.pk).update(seq=seq, head_hash=previous)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=50_000)
    parser.add_argument("--writes", type=int, default=2_000)
    parser.add_argument("--tenant", default="alpha")
    parser.add_argument(
        "--commit-writes", action="store_true", help="also time committed audit_record calls"
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="vigil-bench-"))
    generate_signing_key(path=tmp / "key.pem")
    with override_settings(VIGIL_SIGNING_KEY_PATH=tmp / "key.pem", VIGIL_DATA_DIR=tmp):
        try:
            if args.commit_writes:
                # Each entry in its own transaction, as in production; committed for good
                # (append-only) into the chain "benchmark", so use a scratch database.
                with acting_as("benchmark"):
                    started = time.perf_counter()
                    for _ in range(args.writes):
                        with transaction.atomic():
                            audit_record(
                                tenant_slug="benchmark", action="bench.write", object_type="x"
                            )
                    writes = time.perf_counter() - started
                print(f"audit_record: {args.writes / writes:,.0f} committed entries/s (one writer)")
            with transaction.atomic(), acting_as("benchmark"):
                bulk_chain(args.tenant, args.entries)
                checkpoints_create(chains=[args.tenant])
                started = time.perf_counter()
                result = chain_verify(chain=args.tenant)
                took = time.perf_counter() - started
                print(
                    f"chain_verify: {result.entries_checked:,} entries in {took:.2f} s "
                    f"({result.entries_checked / took:,.0f}/s), status {result.status}"
                )
                with schema_context(args.tenant):
                    now = timezone.now()
                    export = evidence_export_request(
                        period_start=now - timedelta(days=1), period_end=now + timedelta(days=1)
                    )
                    started = time.perf_counter()
                    export = evidence_export_build(export_id=export.pk)
                    took = time.perf_counter() - started
                    path = export_file_path(export, tenant_slug=args.tenant)
                if path is None:
                    raise SystemExit(f"export failed: {export.message}")
                entries = export.counts["audit_entries"]
                print(
                    f"evidence export: {entries:,} entries in {took:.2f} s "
                    f"({entries / took:,.0f}/s), ZIP {path.stat().st_size / 1e6:.1f} MB"
                )
                started = time.perf_counter()
                report = verify_bundle(str(path))
                took = time.perf_counter() - started
                verdict = "VERIFIED" if report.ok else report.problems
                print(f"verify_bundle: {took:.2f} s, {verdict}")
                raise Rollback
        except Rollback:
            print("rolled back: the database is unchanged")


if __name__ == "__main__":
    main()
