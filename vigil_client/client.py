"""VigilClient: a bounded in-memory queue drained by one background thread.

Guarantees, in the order an application cares about them:
1. It never raises into the application and never blocks a request: `record`
   only appends to a deque; every failure is logged and counted in `stats`.
2. Memory is bounded: when the queue is full the OLDEST event is dropped
   (`stats["dropped"]` counts them), so a Vigil outage cannot grow the process.
3. Events are not counted twice: ids are chosen when recorded and a retried
   batch re-sends the same ids (Vigil answers `duplicate` for any it stored).
4. Retries back off exponentially with jitter and honour `Retry-After` (429/503).
5. Pending events are flushed at interpreter exit (atexit), within a time limit.
"""

from __future__ import annotations

import atexit
import logging
import random
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from vigil_client.transport import SendResult, send_batch

logger = logging.getLogger("vigil_client")

Sender = Callable[..., SendResult]


class VigilClient:
    def __init__(
        self,
        *,
        api_key: str,
        base_url: str = "http://localhost:8000",
        feature: str = "",
        environment: str = "",
        release: str = "",
        batch_size: int = 100,
        flush_interval_s: float = 1.0,
        max_queue: int = 10_000,
        max_retries: int = 6,
        backoff_base_s: float = 0.5,
        backoff_max_s: float = 30.0,
        timeout_s: float = 10.0,
        shutdown_timeout_s: float = 5.0,
        enabled: bool = True,
        sender: Sender = send_batch,
    ) -> None:
        self.endpoint = base_url.rstrip("/") + "/api/v1/events"
        self.api_key = api_key
        self.defaults = {
            key: value
            for key, value in (
                ("feature", feature),
                ("environment", environment),
                ("release", release),
            )
            if value
        }
        self.batch_size = max(1, min(batch_size, 1000))
        self.flush_interval_s = flush_interval_s
        self.max_retries = max_retries
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.timeout_s = timeout_s
        self.shutdown_timeout_s = shutdown_timeout_s
        self.enabled = enabled and bool(api_key)
        self._sender = sender
        self._queue: deque[dict[str, Any]] = deque(maxlen=max(1, max_queue))
        self._condition = threading.Condition()
        self._in_flight = 0
        self._flush_now = False
        self._closed = False
        self._stats = dict.fromkeys(
            ("recorded", "sent", "duplicate", "rejected", "dropped", "failed", "retries"), 0
        )
        self._thread: threading.Thread | None = None
        if self.enabled:
            self._thread = threading.Thread(target=self._run, name="vigil-client", daemon=True)
            self._thread.start()
            atexit.register(self.shutdown)

    # -- recording ---------------------------------------------------------

    def record(self, **fields: Any) -> str | None:
        """Queue one event (fields of Vigil's event schema); returns its event_id."""
        try:
            event = {**self.defaults, **{k: v for k, v in fields.items() if v is not None}}
            event.setdefault("event_id", uuid.uuid4().hex)
            event.setdefault("timestamp", datetime.now(UTC).isoformat())
            if isinstance(event["timestamp"], datetime):
                event["timestamp"] = event["timestamp"].isoformat()
            if not self.enabled:
                return str(event["event_id"])
            with self._condition:
                if self._closed:
                    self._stats["dropped"] += 1
                    return str(event["event_id"])
                if len(self._queue) == self._queue.maxlen:
                    self._stats["dropped"] += 1  # deque(maxlen) drops the oldest on append
                self._queue.append(event)
                self._stats["recorded"] += 1
                if len(self._queue) >= self.batch_size:
                    self._condition.notify_all()
            return str(event["event_id"])
        except Exception:  # never into the application
            logger.exception("vigil_client: could not record an event")
            return None

    def llm_call(self, **fields: Any) -> Any:
        """Context manager timing one LLM call (see vigil_client.recording.LLMCall)."""
        from vigil_client.recording import LLMCall

        return LLMCall(self, fields)

    def observe(self, **fields: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator: every call of the function is recorded as one LLM call."""
        from vigil_client.recording import observe

        return observe(self, **fields)

    # -- delivery ----------------------------------------------------------

    @property
    def stats(self) -> dict[str, int]:
        with self._condition:
            return {**self._stats, "queued": len(self._queue), "in_flight": self._in_flight}

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Wait until everything recorded so far is delivered or given up; True if drained."""
        if not self.enabled:
            return True
        deadline = time.monotonic() + timeout_s
        with self._condition:
            while self._queue or self._in_flight:
                self._flush_now = True
                self._condition.notify_all()
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._thread is None or not self._thread.is_alive():
                    return False
                self._condition.wait(min(remaining, 0.1))
        return True

    def shutdown(self) -> None:
        """Flush within `shutdown_timeout_s`, then stop the thread. Safe to call twice."""
        try:
            if not self.enabled or self._closed:
                return
            drained = self.flush(self.shutdown_timeout_s)
            with self._condition:
                self._closed = True
                left = len(self._queue)
                self._condition.notify_all()
            if not drained and left:
                logger.warning("vigil_client: %s events not delivered at shutdown", left)
            if self._thread is not None:
                self._thread.join(timeout=1.0)
        except Exception:
            logger.exception("vigil_client: shutdown failed")

    def _next_batch(self) -> list[dict[str, Any]]:
        with self._condition:
            deadline = time.monotonic() + self.flush_interval_s
            while not (self._closed or self._flush_now or len(self._queue) >= self.batch_size):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._condition.wait(remaining)
            batch = [self._queue.popleft() for _ in range(min(self.batch_size, len(self._queue)))]
            if not self._queue:
                self._flush_now = False
            self._in_flight = len(batch)
            return batch

    def _run(self) -> None:
        while True:
            try:
                batch = self._next_batch()
                if batch:
                    self._deliver(batch)
                with self._condition:
                    self._in_flight = 0
                    self._condition.notify_all()
                    if self._closed and not self._queue:
                        return
            except Exception:  # the thread must survive anything
                logger.exception("vigil_client: delivery loop error")
                time.sleep(self.flush_interval_s)

    def _backoff(self, attempt: int, retry_after_s: float | None) -> float:
        if retry_after_s is not None:
            return retry_after_s
        delay = min(self.backoff_max_s, self.backoff_base_s * (2**attempt))
        return delay * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not security

    def _deliver(self, batch: list[dict[str, Any]]) -> None:
        attempt = 0
        while True:
            result = self._sender(
                endpoint=self.endpoint, api_key=self.api_key, events=batch, timeout_s=self.timeout_s
            )
            if result.delivered:
                self._count_delivered(result)
                return
            if result.status == 413 and len(batch) > 1:  # too big: send it in halves
                half = len(batch) // 2
                self._deliver(batch[:half])
                self._deliver(batch[half:])
                return
            if not result.retryable or attempt >= self.max_retries or self._give_up_now():
                with self._condition:
                    self._stats["failed"] += len(batch)
                logger.error("vigil_client: %s events not delivered (%s)", len(batch), result.error)
                return
            delay = self._backoff(attempt, result.retry_after_s)
            attempt += 1
            with self._condition:
                self._stats["retries"] += 1
            logger.warning(
                "vigil_client: delivery failed (%s); retry %s in %.2fs",
                result.error or result.status,
                attempt,
                delay,
            )
            time.sleep(delay)

    def _give_up_now(self) -> bool:
        return self._closed

    def _count_delivered(self, result: SendResult) -> None:
        with self._condition:
            self._stats["sent"] += result.accepted
            self._stats["duplicate"] += result.duplicate
            self._stats["rejected"] += len(result.rejected)
        for outcome in result.rejected[:5]:
            logger.warning(
                "vigil_client: event %s rejected: %s",
                outcome.get("event_id"),
                outcome.get("errors"),
            )
