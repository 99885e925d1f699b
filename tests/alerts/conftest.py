"""Local stand-ins for the outside world: an SMTP server (aiosmtpd) and a webhook receiver
that checks Vigil's HMAC signature, both on 127.0.0.1; plus traffic helpers."""

from __future__ import annotations

import json
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from alerts.channels.delivery import signature_verify


@dataclass
class SmtpSink:
    messages: list[dict[str, Any]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(
            {"to": list(envelope.rcpt_tos), "data": envelope.content.decode("utf8", "replace")}
        )
        return "250 OK"


@pytest.fixture
def smtp_server(settings: Any) -> Iterator[SmtpSink]:
    sink = SmtpSink()
    with socket.socket() as probe:  # a free port (aiosmtpd's readiness check needs a real one)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    try:
        yield sink
    finally:
        controller.stop()


@dataclass
class WebhookSink:
    url: str = ""
    secret: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    bad_signatures: int = 0
    fail_next: int = 0  # answer 503 to this many requests first


@pytest.fixture
def webhook_server(settings: Any) -> Iterator[WebhookSink]:
    # The receiver is on loopback, which the SSRF check refuses unless the host is exempt.
    settings.VIGIL_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    sink = WebhookSink()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if sink.fail_next > 0:
                sink.fail_next -= 1
                self.send_response(503)
                self.end_headers()
                return
            if self.path.startswith("/slack"):
                sink.received.append({"slack": json.loads(body)})
            else:
                ok = signature_verify(
                    secret=sink.secret,
                    timestamp=self.headers.get("X-Vigil-Timestamp", ""),
                    body=body,
                    signature=self.headers.get("X-Vigil-Signature", ""),
                )
                if not ok:
                    sink.bad_signatures += 1
                    self.send_response(401)
                    self.end_headers()
                    return
                sink.received.append(json.loads(body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    sink.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        yield sink
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def _own_cache_namespace(settings: Any) -> None:
    """Each test its own alerts cache keys: Redis is not rolled back with the database."""
    settings.VIGIL_ALERTS_CACHE_PREFIX = f"alerts-test-{uuid.uuid4().hex}"
    settings.VIGIL_BUDGET_REFRESH_MIN_S = 0.0
