"""A local fake of the Stripe API for the official client (no internet in tests).

It answers the few endpoints billing calls, keeps Stripe's idempotency
semantics (same Idempotency-Key + same parameters -> the stored answer is
replayed; different parameters -> 400), rejects a meter event identifier it
has already billed, and records every request (method, path, headers, form
params) so tests can check what reached "Stripe" and how many times.
Faults: `lose_answer_once(path)` processes the next request on `path` but
answers 500 (the classic lost response); `fail_once(path)` answers 500 without
processing.
"""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

API_KEY = "sk_test_vigil_fake"


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    params: dict[str, str]
    status: int = 0


@dataclass
class FakeStripe:
    requests: list[Recorded] = field(default_factory=list)
    meter_events: dict[str, dict[str, str]] = field(default_factory=dict)  # identifier -> params
    balance_transactions: list[dict[str, str]] = field(default_factory=list)
    invoice_items: list[dict[str, str]] = field(default_factory=list)
    _idempotent: dict[str, tuple[dict[str, str], int, dict]] = field(default_factory=dict)
    _lose: set[str] = field(default_factory=set)
    _fail: set[str] = field(default_factory=set)
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def lose_answer_once(self, path: str) -> None:
        self._lose.add(path)

    def fail_once(self, path: str) -> None:
        self._fail.add(path)

    def forget_idempotency_keys(self) -> None:
        """What Stripe does after 24 h (identifiers may still be enforced)."""
        self._idempotent.clear()

    def posts(self, prefix: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST" and r.path.startswith(prefix)]

    # --- request handling -------------------------------------------------------------
    def handle(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict]:
        params = dict(parse_qsl(body.decode(), keep_blank_values=True))
        record = Recorded(method, path, headers, params)
        with self._lock:
            self.requests.append(record)
            status, answer = self._answer(method, path, headers, params)
        record.status = status
        return status, answer

    def _answer(self, method: str, path: str, headers: dict, params: dict) -> tuple[int, dict]:
        if headers.get("authorization") != f"Bearer {API_KEY}":
            return 401, _error("authentication_error", "Invalid API key provided.")
        if path in self._fail:
            self._fail.discard(path)
            return 500, _error("api_error", "Injected failure before processing.")
        key = headers.get("idempotency-key")
        if method == "POST" and key and key in self._idempotent:
            stored_params, status, answer = self._idempotent[key]
            if stored_params != params:
                return 400, _error(
                    "idempotency_error",
                    "Keys for idempotent requests can only be used with the same parameters.",
                )
            return status, answer
        status, answer = self._process(method, path, params)
        if method == "POST" and key and status < 500:
            self._idempotent[key] = (params, status, answer)
        if path in self._lose:
            self._lose.discard(path)
            return 500, _error("api_error", "Injected failure after processing (lost answer).")
        return status, answer

    def _process(self, method: str, path: str, params: dict) -> tuple[int, dict]:
        if method == "POST" and path == "/v1/billing/meter_events":
            missing = [
                k
                for k in ("event_name", "payload[stripe_customer_id]", "payload[value]")
                if not params.get(k)
            ]
            if missing:
                return 400, _error("invalid_request_error", f"Missing {missing}")
            identifier = params.get("identifier") or f"gen_{next(self._ids)}"
            if identifier in self.meter_events:
                return 400, _error(
                    "invalid_request_error",
                    f"An event already exists with identifier {identifier}.",
                )
            self.meter_events[identifier] = params
            return 200, {
                "object": "billing.meter_event",
                "created": 1,
                "event_name": params["event_name"],
                "identifier": identifier,
                "livemode": False,
                "payload": {
                    "stripe_customer_id": params["payload[stripe_customer_id]"],
                    "value": params["payload[value]"],
                },
                "timestamp": int(params.get("timestamp", 0)),
            }
        if (
            method == "POST"
            and path.startswith("/v1/customers/")
            and path.endswith("/balance_transactions")
        ):
            customer = path.split("/")[3]
            amount = int(params.get("amount", "0"))
            self.balance_transactions.append({"customer": customer, **params})
            return 200, {
                "id": f"cbtxn_{next(self._ids)}",
                "object": "customer_balance_transaction",
                "amount": amount,
                "currency": params.get("currency"),
                "customer": customer,
                "description": params.get("description"),
                "type": "adjustment",
                "livemode": False,
            }
        if method == "POST" and path == "/v1/invoiceitems":
            self.invoice_items.append(params)
            return 200, {
                "id": f"ii_{next(self._ids)}",
                "object": "invoiceitem",
                "amount": int(params.get("amount", "0")),
                "currency": params.get("currency"),
                "customer": params.get("customer"),
                "description": params.get("description"),
                "livemode": False,
            }
        return 404, _error("invalid_request_error", f"Unrecognized request URL ({method}: {path}).")


def _error(kind: str, message: str) -> dict:
    return {"error": {"type": kind, "message": message}}


def start_fake_stripe() -> tuple[FakeStripe, ThreadingHTTPServer]:
    fake = FakeStripe()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self._serve("POST")

        def do_GET(self) -> None:
            self._serve("GET")

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, answer = fake.handle(method, self.path.split("?")[0], headers, body)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Request-Id", f"req_{len(fake.requests)}")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    return fake, server
