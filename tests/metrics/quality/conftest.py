"""Fixtures for quality tests: a tenant schema to work in and a local fake LLM judge.

The fake judge is a real HTTP server on 127.0.0.1 implementing the two APIs the
official clients call: OpenAI's POST /v1/chat/completions (structured output in
the message content) and Anthropic's POST /v1/messages (a tool_use block).
Tests queue the verdicts it answers with ("good" or a malformed payload).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from core.db import tenant_connection
from metrics.demo_traffic import event_build, events_insert
from metrics.models import Event
from metrics.quality.ratelimit import judge_bucket_reset
from metrics.quality.sampling import sampling_cache_clear
from tenants.models import Tenant

GOOD = {"score": 0.9, "label": "relevant", "rationale": "Answers the question directly."}


class FakeJudge:
    def __init__(self) -> None:
        self.queue: list[Any] = []
        self.requests: list[dict[str, Any]] = []
        self.default: Any = "good"
        self.server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    @property
    def anthropic_base_url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def next_verdict(self, body: dict[str, Any]) -> Any:
        verdict = self.queue.pop(0) if self.queue else self.default
        if verdict == "good":
            # Answer with the first label the request's schema allows.
            labels = _schema_labels(body)
            return {**GOOD, "label": labels[0] if labels else GOOD["label"]}
        return verdict


def _schema_labels(body: dict[str, Any]) -> list[str]:
    schema: dict[str, Any] = {}
    if "response_format" in body:
        schema = body["response_format"]["json_schema"]["schema"]
    elif body.get("tools"):
        schema = body["tools"][0]["input_schema"]
    return list(schema.get("properties", {}).get("label", {}).get("enum", []))


def _handler(judge: FakeJudge) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            raw = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            judge.requests.append(
                {
                    "path": self.path,
                    "body": body,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                }
            )
            verdict = judge.next_verdict(body)
            if verdict == "http500":
                self._send(500, {"error": {"message": "boom", "type": "server_error"}})
                return
            text = verdict if isinstance(verdict, str) else json.dumps(verdict)
            if self.path.endswith("/chat/completions"):
                self._send(
                    200,
                    {
                        "id": "chatcmpl-1",
                        "object": "chat.completion",
                        "created": 1_700_000_000,
                        "model": body.get("model", "judge"),
                        "choices": [
                            {
                                "index": 0,
                                "finish_reason": "stop",
                                "message": {"role": "assistant", "content": text},
                            }
                        ],
                        "usage": {
                            "prompt_tokens": 120,
                            "completion_tokens": 30,
                            "total_tokens": 150,
                        },
                    },
                )
            elif self.path.endswith("/messages"):
                content: list[dict[str, Any]]
                if isinstance(verdict, dict):
                    content = [
                        {
                            "type": "tool_use",
                            "id": "toolu_1",
                            "name": "record_grade",
                            "input": verdict,
                        }
                    ]
                else:
                    content = [{"type": "text", "text": text}]
                self._send(
                    200,
                    {
                        "id": "msg_1",
                        "type": "message",
                        "role": "assistant",
                        "model": body.get("model", "judge"),
                        "content": content,
                        "stop_reason": "tool_use",
                        "stop_sequence": None,
                        "usage": {"input_tokens": 200, "output_tokens": 40},
                    },
                )
            else:
                self._send(404, {"error": {"message": "not found"}})

    return Handler


@pytest.fixture
def fake_judge() -> Iterator[FakeJudge]:
    judge = FakeJudge()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(judge))
    server.daemon_threads = True
    judge.server = server
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield judge
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def in_alpha(tenant: Tenant) -> Iterator[Tenant]:
    """Run the test body in alpha's schema (reset to public afterwards by the root conftest)."""
    tenant_connection().set_tenant(tenant)
    sampling_cache_clear()
    judge_bucket_reset(tenant_slug=tenant.schema_name)
    yield tenant
    sampling_cache_clear()


def sampled_event(**fields: Any) -> Event:
    """Insert one sampled event with content in the current schema."""
    defaults: dict[str, Any] = {
        "is_sampled": True,
        "input": "What is the capital of France?",
        "output": "The capital of France is Paris.",
        "content_category": "geography",
        "timestamp": datetime.now(tz=UTC),
    }
    event = event_build(**{**defaults, **fields})
    events_insert([event])
    return Event.objects.get(event_id=event.event_id)
