"""Compliance fixtures: a throwaway signing key, and events shaped like metrics' Event."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import override_settings

from compliance.signing import generate_signing_key


@pytest.fixture
def signing_key(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "keys" / "signing_key.pem"
    generate_signing_key(path=path)
    with override_settings(VIGIL_SIGNING_KEY_PATH=path, VIGIL_DATA_DIR=tmp_path / "data"):
        yield path


@pytest.fixture
def make_event() -> Callable[..., SimpleNamespace]:
    """An object with the attributes of metrics.models.Event that compliance reads."""

    def make(**overrides: Any) -> SimpleNamespace:
        values: dict[str, Any] = {
            "event_id": f"ev-{uuid.uuid4().hex[:12]}",
            "trace_id": uuid.uuid4().hex,
            "span_id": uuid.uuid4().hex[:16],
            "timestamp": datetime(2026, 11, 20, 12, 0, tzinfo=UTC),
            "feature": "support-chat",
            "model": "gpt-4o-mini",
            "policy_violations": [],
            "refused": False,
            "input": "",
            "output": "",
        }
        values.update(overrides)
        return SimpleNamespace(**values)

    return make
