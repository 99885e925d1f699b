"""PII redaction of event content before it is stored.

Ingestion keeps `input`/`output` only for sampled, error, tail and violating
events, and always passes them through `redact_content` first. On top of the
shared rules in core.redaction (e-mails, Luhn-checked card numbers, phone
numbers, SSNs, IPv4 addresses) this replaces IBANs (mod-97 checked) and
API-key-like secrets (provider key formats, bearer tokens, JWTs, `key=value`
assignments of secrets). Secrets and IBANs go first: their digits would
otherwise be half-eaten by the phone and card rules.
"""

from __future__ import annotations

import re

from core.redaction import redact as redact_common

SECRET_PATTERNS = (
    re.compile(r"\bsk-(?:ant-|proj-|live-|test-)?[A-Za-z0-9_-]{16,}"),  # OpenAI, Anthropic, Stripe
    re.compile(r"\b(?:rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}"),  # Stripe
    re.compile(r"\bAKIA[0-9A-Z]{16}\b"),  # AWS access key id
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}"),  # GitHub
    re.compile(r"\bgithub_pat_[A-Za-z0-9_]{30,}"),
    re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),  # Slack
    re.compile(r"\bAIza[0-9A-Za-z_-]{35}"),  # Google API key
    re.compile(r"\bvk_[A-Za-z0-9_-]{16,}"),  # Vigil's own keys
    re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),  # JWT
    re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{16,}"),
)
# `api_key = "..."`, `password: ...`, `secret=...`: keep the name, drop the value.
SECRET_ASSIGNMENT = re.compile(
    r"(?i)\b((?:api[_-]?key|access[_-]?token|secret(?:[_-]?key)?|password|passwd|token)"
    r"\s*[:=]\s*)([\"']?)[^\s\"',;]{6,}\2"
)
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")


def _iban_ok(candidate: str) -> bool:
    compact = candidate.replace(" ", "")
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    digits = "".join(str(int(char, 36)) for char in rearranged)
    return int(digits) % 97 == 1


def _iban(match: re.Match[str]) -> str:
    return "[IBAN]" if _iban_ok(match.group(0)) else match.group(0)


def redact_content(text: str) -> str:
    """`text` with secrets, IBANs, e-mails, cards, phone numbers (and SSNs, IPs) replaced."""
    if not text:
        return ""
    for pattern in SECRET_PATTERNS:
        text = pattern.sub("[SECRET]", text)
    text = SECRET_ASSIGNMENT.sub(lambda m: f"{m.group(1)}[SECRET]", text)
    text = IBAN.sub(_iban, text)
    return redact_common(text)
