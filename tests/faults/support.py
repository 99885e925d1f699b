"""Fault injection on 127.0.0.1: a TCP proxy that can cut PostgreSQL, a private Redis, a
gunicorn subprocess, and the check that the rollups equal the raw events.

Nothing here touches the shared PostgreSQL or Redis of the machine: the proxy only cuts
its own connections, and each Redis is a `redis-server` on a free port of its own.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(condition: Callable[[], bool], *, timeout_s: float, what: str) -> None:
    """Poll until `condition()` holds; fail with `what` after `timeout_s` (not a timing test:
    the bound only keeps a broken run from hanging)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


class TcpProxy:
    """127.0.0.1:<port> -> target. `cut()` resets every open connection and refuses new ones
    (accepts and closes at once, as a restarting PostgreSQL does); `restore()` heals it."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.down = threading.Event()
        self.cuts = 0
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.down.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._open.update((client, upstream))
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(src, dst), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                self._drop(sock)

    def _drop(self, sock: socket.socket) -> None:
        with self._lock:
            self._open.discard(sock)
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            sock.close()

    def cut(self) -> None:
        self.down.set()
        self.cuts += 1
        with self._lock:
            victims = list(self._open)
        for sock in victims:
            self._drop(sock)

    def restore(self) -> None:
        self.down.clear()

    def close(self) -> None:
        self._closed = True
        self.cut()
        with contextlib.suppress(OSError):
            self.listener.close()


NO_PERSISTENCE = ("--save", "", "--appendonly", "no")


class RedisServer:
    """A private redis-server (no persistence) that a test can stop and start again."""

    def __init__(self) -> None:
        self.binary = shutil.which("redis-server")
        assert self.binary, "redis-server is needed for the broker fault tests"
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        assert self.binary is not None
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", *NO_PERSISTENCE],
            stdout=subprocess.DEVNULL,
        )
        wait_until(self._answers, timeout_s=20, what="redis-server to answer")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None


@contextlib.contextmanager
def gunicorn(
    env: dict[str, str], *, access_log: Path | None = None, workers: int = 1, threads: int = 4
) -> Iterator[str]:
    """gunicorn serving Vigil with `env` on a free port; yields its URL. Each answer's
    status goes to `access_log` (first word of each line)."""
    import httpx

    port = free_port()
    log = access_log or Path(os.devnull)
    process = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "core.wsgi:application",
            f"--workers={workers}",
            f"--threads={threads}",
            f"--bind=127.0.0.1:{port}",
            "--log-level=warning",
            f"--access-logfile={log}",
            "--access-logformat=%(s)s %(m)s %(U)s",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
    )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        assert process.poll() is None, "gunicorn exited"
        try:
            return httpx.get(f"{url}/api/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(up, timeout_s=60, what="gunicorn to start")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()


def database_url(*, port: int | None = None) -> str:
    """The URL of the test database (optionally through another port, e.g. a proxy)."""
    params = connection.settings_dict
    user = params.get("USER") or "postgres"
    auth = f"{user}:{params['PASSWORD']}" if params.get("PASSWORD") else user
    host = params.get("HOST") or "127.0.0.1"
    return f"postgresql://{auth}@{host}:{port or params.get('PORT') or 5432}/{params['NAME']}"


ROLLUP_MISMATCH_SQL = """
WITH raw AS (
    SELECT date_trunc('hour', timestamp) AS hour, feature, model, count(*) AS requests,
        sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
        sum(cost_usd) AS cost_usd, count(*) FILTER (WHERE status = 'error') AS errors
    FROM metrics_event WHERE feature = ANY(%(features)s) GROUP BY 1, 2, 3
),
rolled AS (
    SELECT hour, feature, model, sum(requests) AS requests,
        sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
        sum(cost_usd) AS cost_usd, sum(error_count) AS errors
    FROM metrics_hourlyrollup WHERE feature = ANY(%(features)s) GROUP BY 1, 2, 3
)
SELECT * FROM raw FULL JOIN rolled USING (hour, feature, model)
WHERE raw.requests IS DISTINCT FROM rolled.requests
   OR raw.input_tokens IS DISTINCT FROM rolled.input_tokens
   OR raw.output_tokens IS DISTINCT FROM rolled.output_tokens
   OR raw.cost_usd IS DISTINCT FROM rolled.cost_usd
   OR raw.errors IS DISTINCT FROM rolled.errors
"""


def rollup_mismatches(features: list[str]) -> list[tuple[Any, ...]]:
    """Rows where the hourly rollups of `features` differ from the raw events (current
    schema): per hour, feature and model — requests, tokens, cost and errors."""
    with connection.cursor() as cursor:
        cursor.execute(ROLLUP_MISMATCH_SQL, {"features": features})
        return list(cursor.fetchall())


def rolled_requests(features: list[str]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COALESCE(sum(requests), 0) FROM metrics_hourlyrollup WHERE feature = ANY(%s)",
            [features],
        )
        return int(cursor.fetchone()[0])
