"""Minimal PII redaction shared by every app that stores or shows user text.

Replaces e-mail addresses, payment card numbers (Luhn-checked), phone numbers,
US social security numbers and IPv4 addresses with a bracketed label. It is a
safety net, not a DLP product: it errs towards redacting digits that look like
a phone or card number.
"""

from __future__ import annotations

import re

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# 13-19 digits, optionally separated by single spaces or dashes.
CARD = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
SSN = re.compile(r"(?<!\d)\d{3}-\d{2}-\d{4}(?!\d)")
IPV4 = re.compile(
    r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![\d.])"
)
# International or national phone numbers: 7-15 digits with common separators.
PHONE = re.compile(
    r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]?\d{2,4}){1,4}(?!\w)"
)


def _luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return "[CARD]" if 13 <= len(digits) <= 19 and _luhn_ok(digits) else match.group(0)


def _phone(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return "[PHONE]" if 7 <= len(digits) <= 15 else match.group(0)


def redact(text: str) -> str:
    """Return `text` with e-mails, cards, SSNs, IPv4 addresses and phone numbers replaced."""
    if not text:
        return ""
    text = EMAIL.sub("[EMAIL]", text)
    text = CARD.sub(_card, text)
    text = SSN.sub("[SSN]", text)
    text = IPV4.sub("[IP]", text)
    return PHONE.sub(_phone, text)


def excerpt(text: str, *, limit: int = 240) -> str:
    """A short, redacted, single-line excerpt for lists and evidence records."""
    flat = " ".join(redact(text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"
