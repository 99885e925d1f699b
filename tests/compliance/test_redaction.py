"""core.redaction: the shared PII safety net used for violation excerpts and stored content."""

from __future__ import annotations

import pytest

from core.redaction import excerpt, redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("write to jane.doe+vip@example.co.uk today", "write to [EMAIL] today"),
        ("card 4111 1111 1111 1111 ok", "card [CARD] ok"),
        ("card 4111-1111-1111-1111", "card [CARD]"),
        ("call +1 415-555-0100 now", "call [PHONE] now"),
        ("call (020) 7946 0958", "call [PHONE]"),
        ("ssn 123-45-6789", "ssn [SSN]"),
        ("from 192.168.10.254 at noon", "from [IP] at noon"),
        (
            "version 2.3 in 2024 costs 15 dollars, 3 times",
            "version 2.3 in 2024 costs 15 dollars, 3 times",
        ),
        ("", ""),
    ],
)
def test_redact(text, expected):
    assert redact(text) == expected


def test_a_number_that_fails_luhn_is_not_called_a_card():
    assert "[CARD]" not in redact("order 4111 1111 1111 1112")


def test_excerpt_is_short_single_line_and_redacted():
    text = "Hello\n\nreach me at a@b.io " + "word " * 200
    out = excerpt(text, limit=60)
    assert len(out) <= 60 and out.endswith("…")
    assert "\n" not in out and "[EMAIL]" in out and "a@b.io" not in out
