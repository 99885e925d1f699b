"""API key material: generation and hashing. No database access here."""

from __future__ import annotations

import hashlib
import secrets

KEY_PREFIX = "vk_"
PREFIX_LENGTH = 12  # "vk_" + 9 visible characters, shown in lists to tell keys apart


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(raw_key: str) -> str:
    # Keys carry 256 bits of randomness, so a plain SHA-256 is not brute-forceable
    # and keeps the per-request lookup a single indexed equality.
    return hashlib.sha256(raw_key.encode()).hexdigest()


def visible_prefix(raw_key: str) -> str:
    return raw_key[:PREFIX_LENGTH]
