"""Attacks on the audit chain: raw SQL, forged entries, rewritten history."""

from __future__ import annotations

import json
import os
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections, transaction
from django.db.utils import DatabaseError
from django.test import override_settings

from compliance.audit import HASHED_FIELDS, entry_hash
from compliance.chain import chain_verify, checkpoint_signature_ok, checkpoints_create
from compliance.models import AuditChainHead, AuditEntry, ChainCheckpoint
from compliance.selectors import chain_breaks
from compliance.services import audit_record
from compliance.signing import signing_key_load
from core.exceptions import ApplicationError
from core.request_context import acting_as

pytestmark = pytest.mark.django_db


def _chain_with(n: int) -> str:
    chain = f"t_{uuid.uuid4().hex[:10]}"
    for i in range(n):
        audit_record(
            tenant_slug=chain,
            action="thing.changed",
            object_type="thing",
            object_id=i,
            before={"value": i},
            after={"value": i + 1},
        )
    return chain


def _forge(sql: str, params: list[Any]) -> None:
    """What an attacker with superuser rights does: switch the trigger off, edit, switch it on."""
    with connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE compliance_auditentry DISABLE TRIGGER auditentry_no_update_delete"
        )
        cursor.execute(sql, params)
        cursor.execute(
            "ALTER TABLE compliance_auditentry ENABLE TRIGGER auditentry_no_update_delete"
        )


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE compliance_auditentry SET action = 'nothing.happened'",
        "DELETE FROM compliance_auditentry",
        "TRUNCATE compliance_auditentry",
        "UPDATE compliance_chaincheckpoint SET head_hash = repeat('0', 64)",
        "DELETE FROM compliance_chaincheckpoint",
        "TRUNCATE compliance_chaincheckpoint",
    ],
)
def test_raw_sql_cannot_change_audit_or_checkpoints(signing_key, statement):
    chain = _chain_with(2)
    checkpoints_create(chains=[chain])
    with pytest.raises(DatabaseError) as excinfo, transaction.atomic(), connection.cursor() as cur:
        cur.execute(statement)
    assert "append-only" in str(excinfo.value)
    assert AuditEntry.objects.filter(chain=chain).count() == 2


def test_checkpoints_sign_each_moved_head_once(signing_key):
    chain = _chain_with(3)
    assert checkpoints_create(chains=[chain]) == 1
    assert checkpoints_create(chains=[chain]) == 0
    audit_record(tenant_slug=chain, action="thing.more", object_type="thing")
    assert checkpoints_create(chains=[chain]) == 1
    checkpoints = list(ChainCheckpoint.objects.filter(chain=chain).order_by("seq"))
    assert [c.seq for c in checkpoints] == [3, 4]
    assert all(checkpoint_signature_ok(c) for c in checkpoints)
    assert checkpoints[0].key_id == signing_key_load().key_id
    head = AuditChainHead.objects.get(chain=chain)
    assert checkpoints[-1].head_hash == head.head_hash


def test_intact_chain_verifies(signing_key):
    chain = _chain_with(5)
    checkpoints_create(chains=[chain])
    result = chain_verify(chain=chain)
    assert result.status == "ok", result.problems
    assert result.entries_checked == 5
    assert result.checkpoints_checked == 1


def test_forged_middle_entry_is_caught(signing_key):
    chain = _chain_with(5)
    _forge(
        "UPDATE compliance_auditentry SET after = %s::jsonb WHERE chain = %s AND seq = 3",
        ['{"value": 1000}', chain],
    )
    result = chain_verify(chain=chain)
    assert result.status == "broken"
    assert result.first_bad_seq == 3
    assert any("seq 3" in p and "changed" in p for p in result.problems)
    assert chain in [v.chain for v in chain_breaks()]


def test_rewritten_history_with_recomputed_hashes_is_caught_by_checkpoints(signing_key):
    chain = _chain_with(5)
    checkpoints_create(chains=[chain])
    # The forger rewrites entry 3 and recomputes every later hash and the head row.
    previous = AuditEntry.objects.get(chain=chain, seq=2).entry_hash
    for entry in AuditEntry.objects.filter(chain=chain, seq__gte=3).order_by("seq"):
        fields = {name: getattr(entry, name) for name in HASHED_FIELDS}
        fields["prev_hash"] = previous
        if entry.seq == 3:
            fields["after"] = {"value": 1000}
        new_hash = entry_hash(fields)
        _forge(
            "UPDATE compliance_auditentry SET after = %s::jsonb, prev_hash = %s, entry_hash = %s "
            "WHERE id = %s",
            [json.dumps(fields["after"]), previous, new_hash, entry.pk],
        )
        previous = new_hash
    AuditChainHead.objects.filter(chain=chain).update(head_hash=previous)
    result = chain_verify(chain=chain)
    assert result.status == "broken"
    assert any("history was rewritten" in p for p in result.problems), result.problems


def test_deleted_entry_is_caught(signing_key):
    chain = _chain_with(4)
    with connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE compliance_auditentry DISABLE TRIGGER auditentry_no_update_delete"
        )
        cursor.execute("DELETE FROM compliance_auditentry WHERE chain = %s AND seq = 2", [chain])
        cursor.execute(
            "ALTER TABLE compliance_auditentry ENABLE TRIGGER auditentry_no_update_delete"
        )
    result = chain_verify(chain=chain)
    assert result.status == "broken"
    assert result.first_bad_seq == 2
    assert any("seq 2 is missing" in p for p in result.problems), result.problems


def test_missing_key_is_a_clear_error(tmp_path):
    with (
        override_settings(VIGIL_SIGNING_KEY_PATH=tmp_path / "absent.pem"),
        pytest.raises(ApplicationError) as excinfo,
    ):
        signing_key_load()
    assert "create_signing_key" in excinfo.value.details["signing_key"]


def test_create_signing_key_command(tmp_path: Path):
    path = tmp_path / "k" / "key.pem"
    call_command("create_signing_key", path=str(path))
    assert path.exists()
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    original = path.read_bytes()
    with pytest.raises(CommandError):
        call_command("create_signing_key", path=str(path))
    call_command("create_signing_key", path=str(path), if_missing=True)
    assert path.read_bytes() == original
    call_command("create_signing_key", path=str(path), force=True)
    assert path.read_bytes() != original


def test_verify_audit_chains_command_fails_on_a_break(signing_key):
    chain = _chain_with(3)
    call_command("verify_audit_chains", chain=chain)
    _forge(
        "UPDATE compliance_auditentry SET actor_label = 'someone else' "
        "WHERE chain = %s AND seq = 2",
        [chain],
    )
    with pytest.raises(CommandError):
        call_command("verify_audit_chains", chain=chain)


def test_audit_record_actor_can_be_named_explicitly():
    with acting_as("login page"):
        entry = audit_record(
            tenant_slug="t_actor",
            action="auth.login",
            object_type="user",
            object_id=5,
            actor_type="user",
            actor_id=5,
            actor_label="ann@example.test",
        )
    assert (entry.actor_type, entry.actor_id, entry.actor_label) == (
        "user",
        "5",
        "ann@example.test",
    )
    assert entry.request_id.startswith("task-")  # the rest still comes from the context


def test_concurrent_writers_never_fork_the_chain(committed_db, signing_key):
    """Eight threads, each with its own connection, append to one new chain at once."""
    chain = f"race_{uuid.uuid4().hex[:8]}"
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(10):
                with transaction.atomic():
                    audit_record(
                        tenant_slug=chain,
                        action="race.write",
                        object_type="w",
                        object_id=f"{n}-{i}",
                    )
        except BaseException as exc:  # report in the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    seqs = list(
        AuditEntry.objects.filter(chain=chain).order_by("seq").values_list("seq", flat=True)
    )
    assert seqs == list(range(1, 81))
    result = chain_verify(chain=chain)
    assert result.status == "ok", result.problems
