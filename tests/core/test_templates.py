"""Template hygiene that Django does not check for us."""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
# `{# ... #}` comments end at the line's end: one left open is printed on the page.
UNCLOSED_ONE_LINE_COMMENT = re.compile(r"\{#(?:(?!#\}).)*$", re.MULTILINE)


def test_no_template_has_a_multi_line_short_comment() -> None:
    offenders = [
        f"{path.relative_to(TEMPLATES)}:{text[: match.start()].count(chr(10)) + 1}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for text in [path.read_text()]
        for match in UNCLOSED_ONE_LINE_COMMENT.finditer(text)
    ]
    assert offenders == [], f"use {{% comment %}} for multi-line comments: {offenders}"
    assert len(list(TEMPLATES.rglob("*.html"))) > 20  # the scan really saw the templates
