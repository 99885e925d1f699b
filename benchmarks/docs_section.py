"""What every benchmark script shares: its section of docs/benchmarks.md and a started server.

Each script owns the text between its two markers; rewriting it leaves the rest of
the file (other scripts' sections and the prose around them) untouched.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"


def section_write(start_mark: str, end_mark: str, section: str) -> Path:
    """Put `section` (which starts and ends with the marks) in place of the marked one."""
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    if start_mark in text and end_mark in text:
        head, rest = text.split(start_mark, 1)
        text = head + section + rest.split(end_mark, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    DOC.write_text(text)
    return DOC


def health_wait(url: str, *, timeout_s: float) -> bool:
    """Poll `url`/api/health until it answers 200 (True) or `timeout_s` passes (False)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    return False
