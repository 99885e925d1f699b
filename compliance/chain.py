"""Signed checkpoints of the audit chains, and the verification that re-hashes every link.

A checkpoint signs (chain, seq, head hash, time, key id) with the Ed25519 key
from settings. The verification walks a chain in seq order and checks that
each entry's stored hash matches its content, that it links to the previous
entry, that no seq is missing, that the head row agrees, and that every signed
checkpoint still matches the entry it vouched for: rewriting history (even
recomputing every later hash) cannot also forge the signatures.
"""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.db import transaction
from django.utils import timezone

from compliance.audit import GENESIS_HASH, HASHED_FIELDS, entry_hash
from compliance.models import (
    AuditChainHead,
    AuditEntry,
    ChainCheckpoint,
    ChainVerification,
    VerificationStatus,
)
from compliance.signing import signing_key_load
from core.enqueue import enqueue_on_commit

logger = logging.getLogger("vigil.compliance")
MAX_PROBLEMS = 50


def checkpoint_message(
    *, chain: str, seq: int, head_hash: str, signed_at: str, key_id: str
) -> bytes:
    """The exact bytes a checkpoint signature covers (also rebuilt by verify_bundle.py)."""
    payload = {
        "chain": chain,
        "seq": seq,
        "head_hash": head_hash,
        "signed_at": signed_at,
        "key_id": key_id,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


def checkpoint_signature_ok(checkpoint: ChainCheckpoint) -> bool:
    message = checkpoint_message(
        chain=checkpoint.chain,
        seq=checkpoint.seq,
        head_hash=checkpoint.head_hash,
        signed_at=checkpoint.signed_at.isoformat(timespec="microseconds"),
        key_id=checkpoint.key_id,
    )
    try:
        public_key = serialization.load_pem_public_key(checkpoint.public_key_pem.encode())
        if not isinstance(public_key, Ed25519PublicKey):
            return False
        public_key.verify(base64.b64decode(checkpoint.signature), message)
    except (InvalidSignature, ValueError):
        return False
    return True


def checkpoints_create(*, chains: list[str] | None = None) -> int:
    """Sign the head of every chain that moved since its last checkpoint; return how many."""
    key = signing_key_load()
    heads = AuditChainHead.objects.order_by("chain")
    if chains is not None:
        heads = heads.filter(chain__in=chains)
    created = 0
    for head in heads:
        last = ChainCheckpoint.objects.filter(chain=head.chain).order_by("-seq").first()
        if last is not None and last.seq == head.seq and last.head_hash == head.head_hash:
            continue
        signed_at = timezone.now()
        message = checkpoint_message(
            chain=head.chain,
            seq=head.seq,
            head_hash=head.head_hash,
            signed_at=signed_at.isoformat(timespec="microseconds"),
            key_id=key.key_id,
        )
        ChainCheckpoint.objects.create(
            chain=head.chain,
            seq=head.seq,
            head_hash=head.head_hash,
            signed_at=signed_at,
            key_id=key.key_id,
            public_key_pem=key.public_key_pem,
            signature=key.sign(message),
        )
        created += 1
    return created


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []
        self.first_bad_seq: int | None = None

    def add(self, seq: int, message: str) -> None:
        if self.first_bad_seq is None or seq < self.first_bad_seq:
            self.first_bad_seq = seq
        if len(self.items) < MAX_PROBLEMS:
            self.items.append(message)


def _walk_entries(
    chain: str, checkpoint_seqs: set[int], problems: _Problems
) -> tuple[int, int, str, dict[int, str]]:
    """Re-hash every entry in seq order.

    Returns (count, last seq, last hash, recomputed hash at each checkpoint seq).
    """
    expected_seq = 1
    previous_hash = GENESIS_HASH
    count = 0
    at_checkpoints: dict[int, str] = {}
    rows = (
        AuditEntry.objects.filter(chain=chain)
        .order_by("seq")
        .values(*HASHED_FIELDS, "entry_hash")
        .iterator(chunk_size=2000)
    )
    for row in rows:
        fields: dict[str, Any] = dict(row)
        seq = int(fields["seq"])
        count += 1
        if seq != expected_seq:
            if seq > expected_seq:
                missing = (
                    f"seq {expected_seq}"
                    if seq == expected_seq + 1
                    else f"seq {expected_seq}-{seq - 1}"
                )
                problems.add(
                    expected_seq, f"entry {missing} is missing (the chain jumps to seq {seq})."
                )
            else:
                problems.add(
                    seq, f"entry seq {seq} appears out of order after seq {expected_seq - 1}."
                )
        recomputed = entry_hash(fields)
        if recomputed != fields["entry_hash"]:
            problems.add(
                seq,
                f"entry seq {seq} ({fields['action']}): its content no longer matches its "
                "stored hash: the entry was changed after it was written.",
            )
        if fields["prev_hash"] != previous_hash:
            problems.add(
                seq,
                f"entry seq {seq}: prev_hash does not match the hash of the entry before it: "
                "an entry was changed, removed or inserted before it.",
            )
        if seq in checkpoint_seqs:
            at_checkpoints[seq] = recomputed
        previous_hash = fields["entry_hash"]
        expected_seq = seq + 1
    return count, expected_seq - 1, previous_hash, at_checkpoints


def chain_verify(*, chain: str) -> ChainVerification:
    """Verify one chain now and store the result (status ok or broken, with what failed)."""
    started_at = timezone.now()
    problems = _Problems()
    checkpoints = list(ChainCheckpoint.objects.filter(chain=chain).order_by("seq", "signed_at"))
    count, last_seq, last_hash, at_checkpoints = _walk_entries(
        chain, {c.seq for c in checkpoints}, problems
    )
    head = AuditChainHead.objects.filter(chain=chain).first()
    if head is not None and (head.seq != last_seq or head.head_hash != last_hash):
        problems.add(
            min(head.seq, last_seq) or 1,
            f"chain head says seq {head.seq} / {head.head_hash[:12]}…, the entries end at "
            f"seq {last_seq} / {last_hash[:12]}….",
        )
    for checkpoint in checkpoints:
        if not checkpoint_signature_ok(checkpoint):
            problems.add(
                checkpoint.seq, f"checkpoint at seq {checkpoint.seq}: signature is invalid."
            )
        elif checkpoint.seq > 0 and at_checkpoints.get(checkpoint.seq) != checkpoint.head_hash:
            problems.add(
                checkpoint.seq,
                f"checkpoint signed {checkpoint.signed_at:%Y-%m-%d %H:%M} vouches for seq "
                f"{checkpoint.seq} = {checkpoint.head_hash[:12]}…, but that entry now hashes to "
                f"{(at_checkpoints.get(checkpoint.seq) or 'nothing')[:12]}…: "
                "history was rewritten.",
            )
    status = VerificationStatus.BROKEN if problems.items else VerificationStatus.OK
    verification = ChainVerification.objects.create(
        chain=chain,
        started_at=started_at,
        finished_at=timezone.now(),
        status=status,
        entries_checked=count,
        checkpoints_checked=len(checkpoints),
        head_seq=last_seq,
        first_bad_seq=problems.first_bad_seq,
        problems=problems.items,
    )
    if status == VerificationStatus.BROKEN:
        logger.error(
            "audit chain %s is broken at seq %s: %s",
            chain,
            problems.first_bad_seq,
            "; ".join(problems.items[:5]),
        )
    else:
        logger.info(
            "audit chain %s intact: %s entries, %s checkpoints", chain, count, len(checkpoints)
        )
    return verification


def chains_verify_all() -> list[ChainVerification]:
    """The daily job: every chain, one after the other (each in its own transaction)."""
    results = []
    for chain in AuditChainHead.objects.order_by("chain").values_list("chain", flat=True):
        with transaction.atomic():
            results.append(chain_verify(chain=chain))
    return results


def chain_verification_request(*, chain: str) -> None:
    """Queue a verification of one chain now (audited; the result lands on the audit log page)."""
    from compliance.services import audit_record
    from compliance.tasks import verify_chain

    with transaction.atomic():
        audit_record(
            tenant_slug=chain,
            action="audit_chain.verification_requested",
            object_type="audit_chain",
            object_id=chain,
        )
        enqueue_on_commit(verify_chain, chain)
