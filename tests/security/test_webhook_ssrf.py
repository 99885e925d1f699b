"""Alert channels never post into Vigil's own network (SSRF), at save time and at delivery time."""

from __future__ import annotations

import ipaddress
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django_tenants.utils import tenant_context

from alerts.channels.delivery import pinned_connection
from alerts.channels.services import channel_create, channel_test
from alerts.channels.ssrf import UnsafeURL, VettedURL, address_refusal, vet_url
from alerts.rules.models import Channel
from core.exceptions import ApplicationError

REFUSED_URLS = [
    "http://127.0.0.1/hook",
    "http://127.8.9.10:8080/hook",
    "http://localhost:6379/",  # a name that resolves to loopback (Redis lives there)
    "http://10.1.2.3/hook",
    "http://172.16.0.1/hook",
    "http://192.168.1.20/hook",
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata
    "http://100.64.0.1/hook",  # carrier-grade NAT
    "http://0.0.0.0:5432/",
    "http://224.0.0.1/hook",
    "http://240.0.0.1/hook",
    "http://[::1]/hook",
    "http://[fd12:3456::1]/hook",  # unique-local
    "http://[fe80::1]/hook",
    "http://[ff02::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",  # IPv4-mapped loopback
    "http://[2002:a00:1::]/hook",  # 6to4 wrapping 10.0.0.1
    "http://2130706433/hook",  # 127.0.0.1 written as one integer
    "http://0x7f.0.0.1/hook",
]


@dataclass
class Receiver:
    url: str = ""
    requests: list[dict[str, str]] = field(default_factory=list)
    redirect_to: str = ""


@pytest.fixture
def receiver_factory() -> Iterator[Callable[[], Receiver]]:
    """Local HTTP receivers on 127.0.0.1 that record each request's path and Host header."""
    servers: list[ThreadingHTTPServer] = []

    def make() -> Receiver:
        receiver = Receiver()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append({"path": self.path, "host": self.headers["Host"]})
                if receiver.redirect_to:
                    self.send_response(302)
                    self.send_header("Location", receiver.redirect_to)
                else:
                    self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        return receiver

    yield make
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("url", REFUSED_URLS)
@pytest.mark.parametrize("kind", ["webhook", "slack"])
def test_internal_urls_are_refused_with_a_field_error(tenant: Any, kind: str, url: str) -> None:
    with tenant_context(tenant), pytest.raises(ApplicationError) as refused:
        channel_create(name="hook", kind=kind, target=url)
    assert "target" in refused.value.details
    with tenant_context(tenant):
        assert not Channel.objects.filter(target=url).exists()


@pytest.mark.parametrize(
    "url", ["ftp://example.com/hook", "file:///etc/passwd", "gopher://127.0.0.1:6379/_INFO"]
)
def test_non_http_schemes_are_refused(tenant: Any, url: str) -> None:
    with tenant_context(tenant), pytest.raises(ApplicationError) as refused:
        channel_create(name="hook", kind="webhook", target=url)
    assert refused.value.details["target"] == "An http(s) URL."


def test_a_public_address_is_accepted(tenant: Any) -> None:
    with tenant_context(tenant):
        channel = channel_create(name="hook", kind="webhook", target="https://8.8.8.8/hook")
    assert channel.pk is not None


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("169.254.169.254", False),
        ("fd00:ec2::254", False),  # AWS metadata over IPv6
        ("::", False),
        ("192.0.2.1", False),  # documentation range
    ],
)
def test_address_classification(address: str, public: bool) -> None:
    assert (address_refusal(ipaddress.ip_address(address)) is None) is public


def test_the_channel_form_shows_the_refusal_on_the_target_field(
    tenant: Any, admin_user: Any, tenant_client: Callable[..., Any]
) -> None:
    client = tenant_client(tenant, admin_user)
    page = client.post(
        "/alerts/channels/",
        {"name": "metadata", "kind": "webhook", "target": "http://169.254.169.254/latest/"},
    )
    assert page.status_code == 200
    target_field = re.search(rb'id="c-target".*?</div>', page.content, re.S)
    assert target_field is not None
    assert b'class="field-error"' in target_field.group(0)
    assert b"resolves to 169.254.169.254, a link-local address" in target_field.group(0)
    with tenant_context(tenant):
        assert not Channel.objects.filter(name="metadata").exists()


def test_delivery_rechecks_the_address_and_refuses_a_private_one(
    tenant: Any,
    settings: Any,
    celery_eager: None,
    receiver_factory: Callable[[], Receiver],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    """Saved while `localhost` was exempt; once the exemption is gone, nothing is sent."""
    receiver = receiver_factory()
    url = receiver.url.replace("127.0.0.1", "localhost")
    settings.VIGIL_WEBHOOK_ALLOWED_HOSTS = ["localhost"]
    with tenant_context(tenant):
        hook = channel_create(name="hook", kind="webhook", target=url)
        with django_capture_on_commit_callbacks(execute=True):
            delivered = channel_test(channel=hook)
        delivered.refresh_from_db()
        assert delivered.status == "sent"
        assert receiver.requests[0]["host"] == url.split("/")[2]  # Host kept while pinned

        settings.VIGIL_WEBHOOK_ALLOWED_HOSTS = []
        with django_capture_on_commit_callbacks(execute=True):
            refused = channel_test(channel=hook)
        refused.refresh_from_db()
        hook.refresh_from_db()
    assert refused.status == "failed"
    assert refused.error.startswith("refused: The host localhost resolves to 127.0.0.1")
    assert hook.last_status == "failing"
    assert len(receiver.requests) == 1


def test_redirects_are_not_followed(
    tenant: Any,
    settings: Any,
    celery_eager: None,
    receiver_factory: Callable[[], Receiver],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    settings.VIGIL_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    inside = receiver_factory()
    outside = receiver_factory()
    outside.redirect_to = inside.url
    with tenant_context(tenant):
        hook = channel_create(name="hook", kind="slack", target=outside.url)
        with django_capture_on_commit_callbacks(execute=True):
            notification = channel_test(channel=hook)
        notification.refresh_from_db()
    assert notification.response_code == 302
    assert "redirects are not followed" in notification.error
    assert len(outside.requests) == notification.attempts
    assert inside.requests == []


def test_the_connection_goes_to_the_vetted_address_not_a_new_lookup(
    receiver_factory: Callable[[], Receiver],
) -> None:
    """A name that no longer resolves (or resolves elsewhere) is not looked up again."""
    receiver = receiver_factory()
    port = int(receiver.url.split(":")[2].split("/")[0])
    vetted = VettedURL(
        scheme="http", host="rebound.invalid", port=port, path="/x", addresses=("127.0.0.1",)
    )
    conn = pinned_connection(vetted, "127.0.0.1")
    try:
        conn.request("POST", vetted.path, body=b"{}")
        assert conn.getresponse().status == 204
    finally:
        conn.close()
    assert receiver.requests == [{"path": "/x", "host": f"rebound.invalid:{port}"}]


def test_vet_url_names_the_reason(settings: Any) -> None:
    settings.VIGIL_WEBHOOK_ALLOW_PRIVATE = False
    with pytest.raises(UnsafeURL, match="does not resolve"):
        vet_url("https://no-such-host.invalid/hook")
    settings.VIGIL_WEBHOOK_ALLOW_PRIVATE = True
    assert vet_url("http://127.0.0.1:9/hook").addresses == ("127.0.0.1",)
