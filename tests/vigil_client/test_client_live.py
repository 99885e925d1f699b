"""vigil_client against the live server over real HTTP, with its real (urllib) transport.

A small proxy started by the test sits between the client and Vigil to simulate
the failures a client meets: a connection dropped after Vigil stored the batch
(the retry must not double count) and a 429 with Retry-After.
"""

from __future__ import annotations

import http.client
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.metrics.otel.conftest import LiveKey, events_where, unique
from vigil_client import VigilClient

pytestmark = pytest.mark.usefixtures("committed_db")


class FlakyProxy:
    """Forwards POSTs to Vigil; the first `failures` requests fail in the chosen way.

    mode "drop": forward to Vigil (it stores the batch), then close the connection
    without answering, as a timeout or a reset would look to the client.
    mode "429": answer 429 with Retry-After without forwarding.
    """

    def __init__(self, upstream: str, *, mode: str, failures: int = 1, retry_after: str = "1"):
        self.upstream = urllib.parse.urlsplit(upstream)
        self.mode = mode
        self.failures = failures
        self.retry_after = retry_after
        self.requests = 0
        self.request_times: list[float] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                proxy.requests += 1
                proxy.request_times.append(time.monotonic())
                failing = proxy.requests <= proxy.failures
                if failing and proxy.mode == "429":
                    self.send_response(429)
                    self.send_header("Retry-After", proxy.retry_after)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"{}")
                    return
                status, headers, answer = proxy.forward(self.path, body, dict(self.headers))
                if failing and proxy.mode == "drop":
                    self.close_connection = True  # stored upstream, answer lost
                    return
                self.send_response(status)
                for name, value in headers:
                    if name.lower() not in {"transfer-encoding", "connection", "content-length"}:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def forward(
        self, path: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        connection = http.client.HTTPConnection(
            self.upstream.hostname or "127.0.0.1", self.upstream.port, timeout=30
        )
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def proxy_for(live_server_url: str) -> Iterator[Callable[..., FlakyProxy]]:
    proxies: list[FlakyProxy] = []

    def make(**kwargs: Any) -> FlakyProxy:
        proxy = FlakyProxy(live_server_url, **kwargs)
        proxies.append(proxy)
        return proxy

    yield make
    for proxy in proxies:
        proxy.close()


def client_for(base_url: str, key: LiveKey, **kwargs: Any) -> VigilClient:
    options: dict[str, Any] = {
        "api_key": key.raw,
        "base_url": base_url,
        "flush_interval_s": 0.05,
        "backoff_base_s": 0.05,
        "timeout_s": 10,
    }
    options.update(kwargs)
    return VigilClient(**options)


def test_context_manager_and_decorator_land_as_priced_events(
    live_server_url: str, alpha_key: LiveKey
) -> None:
    feature = unique("client")
    vigil = client_for(live_server_url, alpha_key, feature=feature, environment="staging")

    with vigil.llm_call(model="gpt-4o-mini", provider="openai", customer="acme") as call:
        call.set_response(
            {
                "model": "gpt-4o-mini-2024-07-18",
                "usage": {"prompt_tokens": 1000, "completion_tokens": 200},
            }
        )

    @vigil.observe(model="gpt-4o", provider="openai", endpoint="/v1/summarise")
    def summarise(text: str) -> dict[str, Any]:
        return {"usage": {"prompt_tokens": len(text), "completion_tokens": 5}}

    class APITimeoutError(Exception):
        pass

    summarise("hello world")
    with pytest.raises(APITimeoutError), vigil.llm_call(model="gpt-4o", provider="openai"):
        raise APITimeoutError("upstream took too long")
    assert vigil.flush(10)
    vigil.shutdown()

    events = {
        event.model + "/" + event.status: event
        for event in events_where(alpha_key.tenant, feature=feature)
    }
    assert set(events) == {"gpt-4o-mini/ok", "gpt-4o/ok", "gpt-4o/timeout"}
    mini = events["gpt-4o-mini/ok"]
    assert (mini.input_tokens, mini.output_tokens, mini.customer) == (1000, 200, "acme")
    assert mini.response_model == "gpt-4o-mini-2024-07-18" and mini.environment == "staging"
    assert mini.cost_source == "price_table" and mini.cost_usd > 0
    assert (
        events["gpt-4o/ok"].endpoint == "/v1/summarise" and events["gpt-4o/ok"].input_tokens == 11
    )
    assert events["gpt-4o/timeout"].error_type.endswith("APITimeoutError")
    assert vigil.stats["sent"] == 3 and vigil.stats["failed"] == 0


def test_retry_after_a_dropped_answer_never_double_counts(
    alpha_key: LiveKey, proxy_for: Callable[..., FlakyProxy]
) -> None:
    proxy = proxy_for(mode="drop", failures=1)
    feature = unique("client-drop")
    vigil = client_for(proxy.url, alpha_key, feature=feature, batch_size=50)
    ids = [vigil.record(model="gpt-4o-mini", input_tokens=10, output_tokens=1) for _ in range(20)]
    assert vigil.flush(15)
    vigil.shutdown()
    assert proxy.requests == 2  # the lost answer, then the retry with the same ids
    stored = events_where(alpha_key.tenant, feature=feature)
    assert sorted(event.event_id for event in stored) == sorted(str(i) for i in ids)
    assert vigil.stats["duplicate"] == 20 and vigil.stats["sent"] == 0  # Vigil had them already
    assert vigil.stats["retries"] == 1


def test_429_retry_after_is_honoured(
    alpha_key: LiveKey, proxy_for: Callable[..., FlakyProxy]
) -> None:
    proxy = proxy_for(mode="429", failures=1, retry_after="1")
    feature = unique("client-429")
    vigil = client_for(proxy.url, alpha_key, feature=feature)
    vigil.record(model="gpt-4o", input_tokens=1)
    assert vigil.flush(15)
    vigil.shutdown()
    assert proxy.requests == 2
    assert proxy.request_times[1] - proxy.request_times[0] >= 0.95
    assert len(events_where(alpha_key.tenant, feature=feature)) == 1


def test_rejected_events_are_counted_and_logged_not_raised(
    live_server_url: str, alpha_key: LiveKey, caplog: pytest.LogCaptureFixture
) -> None:
    feature = unique("client-bad")
    vigil = client_for(live_server_url, alpha_key, feature=feature)
    vigil.record(model="gpt-4o", input_tokens=-5)  # negative tokens: rejected
    vigil.record(model="gpt-4o", input_tokens=5)
    assert vigil.flush(10)
    vigil.record(input_tokens=5)  # no model, alone in its batch: Vigil answers 400
    assert vigil.flush(10)
    vigil.shutdown()
    assert vigil.stats["rejected"] == 2 and vigil.stats["sent"] == 1
    assert vigil.stats["failed"] == 0
    assert "rejected" in caplog.text
    assert len(events_where(alpha_key.tenant, feature=feature)) == 1


def test_unreachable_vigil_never_raises_and_gives_up(alpha_key: LiveKey) -> None:
    vigil = client_for("http://127.0.0.1:9", alpha_key, max_retries=2, timeout_s=1)
    with vigil.llm_call(model="gpt-4o", feature="x"):
        pass
    assert vigil.flush(10)
    vigil.shutdown()
    assert vigil.stats["failed"] == 1 and vigil.stats["retries"] == 2


def test_beta_key_lands_in_beta_only(
    live_server_url: str, alpha_key: LiveKey, beta_key: LiveKey
) -> None:
    feature = unique("client-beta")
    vigil = client_for(live_server_url, beta_key, feature=feature)
    event_id = vigil.record(model="gpt-4o", event_id=f"beta-{uuid.uuid4().hex}")
    assert vigil.flush(10)
    vigil.shutdown()
    assert [event.event_id for event in events_where(beta_key.tenant, feature=feature)] == [
        event_id
    ]
    assert events_where(alpha_key.tenant, feature=feature) == []
