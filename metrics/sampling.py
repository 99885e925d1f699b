"""Deterministic sampling: the same event id is always in or out of the sample.

Quality grading and content storage both ask `is_sampled(event_id, rate)`, so an
event sampled for grading also keeps its (redacted) content, whichever process
asks and however often it is retried.
"""

from __future__ import annotations

import hashlib

DEFAULT_SAMPLE_RATE = 0.005  # 0.5 %
_SCALE = float(2**64)


def sample_point(event_id: str) -> float:
    """A stable number in [0, 1) derived from the event id (BLAKE2b, first 8 bytes)."""
    digest = hashlib.blake2b(event_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / _SCALE


def is_sampled(event_id: str, rate: float = DEFAULT_SAMPLE_RATE) -> bool:
    """True for about `rate` of all event ids, always the same answer for one id."""
    if rate <= 0:
        return False
    if rate >= 1:
        return True
    return sample_point(event_id) < rate
