"""Fixtures for the real-client tests: committed API keys, a fake OpenAI server, event lookups.

Live-server tests share one committed database for the whole session, so every
test names its data uniquely (fresh trace ids, unique features) and never
relies on a table being empty.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from core.request_context import acting_as
from metrics.models import Event
from metrics.otel.models import ClientScore, TraceSpan
from tenants.models import Tenant
from tenants.services import api_key_create


@dataclass(frozen=True)
class LiveKey:
    tenant: Tenant
    raw: str
    prefix: str


def _key(tenant: Tenant, scopes: list[str]) -> LiveKey:
    with acting_as("otel tests"):
        created = api_key_create(tenant=tenant, name=f"otel-{uuid.uuid4().hex[:6]}", scopes=scopes)
    return LiveKey(tenant=tenant, raw=created.raw_key, prefix=created.api_key.prefix)


@pytest.fixture(autouse=True)
def _forget_committed_rows(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a live test, delete the events, spans and scores it committed.

    Live tests commit (the server runs in other threads); their rows would
    otherwise be seen by every later test of the session, e.g. as sampled events
    waiting for a grade. Rows received since the test started are the test's own:
    tests of one pytest process run one at a time.
    """
    if "committed_db" not in request.fixturenames:
        yield
        return
    started = timezone.now()
    yield
    for slug in ("alpha", "beta"):
        tenant = Tenant.objects.filter(schema_name=slug).first()
        if tenant is None:
            continue
        with tenant_context(tenant):
            Event.objects.filter(received_at__gte=started).delete()
            TraceSpan.objects.filter(received_at__gte=started).delete()
            ClientScore.objects.filter(received_at__gte=started).delete()


@pytest.fixture
def alpha_key(committed_db: None, session_tenants: dict[str, Tenant]) -> LiveKey:
    return _key(session_tenants["alpha"], ["ingest"])


@pytest.fixture
def beta_key(committed_db: None, session_tenants: dict[str, Tenant]) -> LiveKey:
    return _key(session_tenants["beta"], ["ingest"])


@pytest.fixture
def alpha_read_key(committed_db: None, session_tenants: dict[str, Tenant]) -> LiveKey:
    return _key(session_tenants["alpha"], ["read"])


def events_where(tenant: Tenant, **filters: Any) -> list[Event]:
    with tenant_context(tenant):
        return list(Event.objects.filter(**filters).order_by("timestamp", "event_id"))


def spans_where(tenant: Tenant, **filters: Any) -> list[TraceSpan]:
    with tenant_context(tenant):
        return list(TraceSpan.objects.filter(**filters).order_by("start"))


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


class _FakeOpenAI(BaseHTTPRequestHandler):
    """Chat completions with usage, like api.openai.com/v1/chat/completions answers."""

    requests: list[dict[str, Any]]

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        self.server.requests.append(body)  # type: ignore[attr-defined]
        if body.get("model") == "overloaded-model":
            self._answer(429, {"error": {"message": "Rate limit reached", "type": "requests"}})
            return
        prompt = " ".join(str(m.get("content", "")) for m in body.get("messages", []))
        if body.get("stream"):
            self._stream(str(body.get("model")))
            return
        answer = {
            "id": f"chatcmpl-{uuid.uuid4().hex[:8]}",
            "object": "chat.completion",
            "created": 1_780_000_000,
            "model": f"{body.get('model')}-2024-07-18",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": f"echo: {prompt}"},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150},
        }
        self._answer(200, answer)

    def _stream(self, model: str) -> None:
        """Server-sent events: the first token after ~60 ms, usage in the last chunk."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        base = {"id": "chatcmpl-s", "object": "chat.completion.chunk", "created": 1_780_000_000}
        base["model"] = f"{model}-2024-07-18"
        chunks: list[dict[str, Any]] = [
            {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hel"}}]},
            {
                **base,
                "choices": [{"index": 0, "delta": {"content": "lo"}, "finish_reason": "stop"}],
            },
            {**base, "choices": [], "usage": {"prompt_tokens": 40, "completion_tokens": 2}},
        ]
        time.sleep(0.06)
        for chunk in chunks:
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()
            time.sleep(0.02)
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()
        self.close_connection = True

    def _answer(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture(scope="session")
def fake_openai_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeOpenAI)
    server.requests = []  # type: ignore[attr-defined]
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
