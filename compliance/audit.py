"""Canonical encoding and hashing of audit entries, for the writer and the live verifier.

The encoding itself is defined once, in the standalone verifier shipped inside
every evidence bundle (compliance/bundle_verify.py), so what Vigil writes and
what an auditor checks can never drift apart. Here it only gains the conversion
of database values (datetimes) to their stored text.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from compliance.bundle_verify import GENESIS_HASH, HASHED_FIELDS, canonical_entry_bytes

__all__ = ["GENESIS_HASH", "HASHED_FIELDS", "canonical_bytes", "entry_hash"]


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds")
    return value


def canonical_bytes(fields: dict[str, Any]) -> bytes:
    """Sorted keys, no whitespace, UTF-8: the same entry always encodes to the same bytes."""
    return canonical_entry_bytes({name: _encode_value(fields[name]) for name in HASHED_FIELDS})


def entry_hash(fields: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_bytes(fields)).hexdigest()
