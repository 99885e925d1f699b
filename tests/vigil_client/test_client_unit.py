"""vigil_client behaviour that needs no server: queueing, retries, classification, never raising.

The sender is replaced by a recording function (the outside world here is HTTP;
the live-server tests in test_client_live.py use the real transport).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import vigil_client
from vigil_client import VigilClient, classify_exception, usage_fields
from vigil_client.transport import SendResult


class FakeSender:
    """Answers from a script: each call pops the next SendResult (last one repeats)."""

    def __init__(self, *answers: SendResult) -> None:
        self.answers = list(answers) or [SendResult(delivered=True, status=200)]
        self.calls: list[list[str]] = []
        self.events: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def __call__(
        self, *, endpoint: str, api_key: str, events: list[dict[str, Any]], timeout_s: float
    ) -> SendResult:
        with self.lock:
            self.calls.append([event["event_id"] for event in events])
            self.events.extend(events)
            answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if answer.delivered:
            return SendResult(delivered=True, status=200, accepted=len(events))
        return answer


def make_client(sender: FakeSender, **kwargs: Any) -> VigilClient:
    options: dict[str, Any] = {
        "api_key": "vk_test",
        "base_url": "http://127.0.0.1:9",
        "flush_interval_s": 0.05,
        "backoff_base_s": 0.01,
        "sender": sender,
    }
    options.update(kwargs)
    return VigilClient(**options)


def test_records_are_batched_and_delivered() -> None:
    sender = FakeSender()
    client = make_client(sender, batch_size=10, feature="bot")
    ids = [client.record(model="gpt-4o", input_tokens=i) for i in range(25)]
    assert client.flush(5)
    delivered = [event_id for call in sender.calls for event_id in call]
    assert delivered == ids
    assert all(len(call) <= 10 for call in sender.calls)
    assert client.stats["sent"] == 25 and client.stats["queued"] == 0
    client.shutdown()


def test_retry_keeps_the_same_event_ids_and_honours_retry_after() -> None:
    sender = FakeSender(
        SendResult(delivered=False, retryable=True, status=503, error="HTTP 503"),
        SendResult(delivered=False, retryable=True, status=429, retry_after_s=0.2),
        SendResult(delivered=True),
    )
    client = make_client(sender)
    event_id = client.record(model="gpt-4o", feature="x")
    started = time.monotonic()
    assert client.flush(5)
    assert time.monotonic() - started >= 0.2  # waited as the 429 asked
    assert sender.calls == [[event_id], [event_id], [event_id]]
    assert client.stats["retries"] == 2 and client.stats["sent"] == 1
    client.shutdown()


def test_refused_batch_is_not_retried_and_counted_failed() -> None:
    sender = FakeSender(SendResult(delivered=False, retryable=False, status=401, error="bad key"))
    client = make_client(sender)
    client.record(model="m", feature="f")
    assert client.flush(5)
    assert len(sender.calls) == 1
    assert client.stats["failed"] == 1
    client.shutdown()


def test_gives_up_after_max_retries() -> None:
    sender = FakeSender(SendResult(delivered=False, retryable=True, error="down"))
    client = make_client(sender, max_retries=3)
    client.record(model="m", feature="f")
    assert client.flush(5)
    assert len(sender.calls) == 4
    assert client.stats["failed"] == 1
    client.shutdown()


def test_too_large_batch_is_split() -> None:
    sender = FakeSender(
        SendResult(delivered=False, retryable=False, status=413), SendResult(delivered=True)
    )
    client = make_client(sender, batch_size=4, flush_interval_s=1)
    ids = [str(client.record(model="m", feature="f")) for _ in range(4)]
    assert client.flush(5)
    assert sender.calls[0] == ids
    assert sorted(sender.calls[1] + sender.calls[2]) == sorted(ids)
    assert client.stats["sent"] == 4
    client.shutdown()


def test_full_queue_drops_the_oldest_and_counts_it() -> None:
    blocker = threading.Event()
    delivered: list[str] = []

    def slow_sender(**kwargs: Any) -> SendResult:
        blocker.wait(5)
        delivered.extend(event["event_id"] for event in kwargs["events"])
        return SendResult(delivered=True, accepted=len(kwargs["events"]))

    client = VigilClient(
        api_key="k", batch_size=1, max_queue=3, flush_interval_s=0.01, sender=slow_sender
    )
    first = client.record(model="m", feature="f")
    time.sleep(0.1)  # the first event is now in flight, blocked
    ids = [client.record(model="m", feature="f", input_tokens=i) for i in range(5)]
    stats = client.stats
    assert stats["dropped"] == 2 and stats["queued"] == 3
    blocker.set()
    assert client.flush(5)
    assert delivered == [first, *ids[2:]]  # the two oldest queued ones were dropped
    assert client.stats["sent"] == 4
    client.shutdown()


def test_never_raises_when_the_sender_explodes() -> None:
    def broken(**kwargs: Any) -> SendResult:
        raise RuntimeError("transport bug")

    client = VigilClient(api_key="k", flush_interval_s=0.01, sender=broken)
    assert client.record(model="m", feature="f", weird=object()) is not None
    time.sleep(0.1)
    client.shutdown()  # returns despite the broken sender
    assert client.record(model="m", feature="f") is not None  # after shutdown: dropped, no raise
    assert client.stats["dropped"] == 1


def test_disabled_without_a_key() -> None:
    client = VigilClient(api_key="")
    assert client.record(model="m", feature="f")
    assert client.flush(0.1) and client.stats["recorded"] == 0


def test_context_manager_times_and_classifies_and_reraises() -> None:
    sender = FakeSender()
    client = make_client(sender)

    class RateLimitError(Exception):
        status_code = 429

    with pytest.raises(RateLimitError), client.llm_call(feature="chat", model="gpt-4o") as call:
        call.set(customer="acme")
        time.sleep(0.02)
        raise RateLimitError("slow down")
    with client.llm_call(feature="chat", model="gpt-4o") as call:
        call.mark_first_token()
        call.set_response(
            {"model": "gpt-4o-2024-08-06", "usage": {"prompt_tokens": 9, "completion_tokens": 4}}
        )
    assert client.flush(5)
    client.shutdown()
    [limited, ok] = sender.events
    assert limited["status"] == "rate_limited" and limited["error_type"].endswith("RateLimitError")
    assert limited["customer"] == "acme" and limited["latency_ms"] >= 20
    assert ok["response_model"] == "gpt-4o-2024-08-06"
    assert (ok["input_tokens"], ok["output_tokens"]) == (9, 4)
    assert "status" not in ok and ok["time_to_first_token_ms"] is not None
    assert limited["timestamp"] < ok["timestamp"]


def test_classify_exception_and_usage_fields() -> None:
    assert classify_exception(TimeoutError())[0] == "timeout"
    assert classify_exception(asyncio.CancelledError())[0] == "cancelled"
    assert classify_exception(ValueError("x")) == ("error", "builtins.ValueError")

    class APITimeoutError(Exception):
        pass

    assert classify_exception(APITimeoutError())[0] == "timeout"
    openai_like = {
        "model": "gpt-4o-mini-2024-07-18",
        "usage": {
            "prompt_tokens": 100,
            "completion_tokens": 20,
            "prompt_tokens_details": {"cached_tokens": 40},
            "completion_tokens_details": {"reasoning_tokens": 5},
        },
    }
    assert usage_fields(openai_like) == {
        "response_model": "gpt-4o-mini-2024-07-18",
        "input_tokens": 100,
        "output_tokens": 20,
        "cached_input_tokens": 40,
        "reasoning_tokens": 5,
    }
    anthropic_like = {
        "usage": {"input_tokens": 7, "output_tokens": 3, "cache_read_input_tokens": 2}
    }
    assert usage_fields(anthropic_like) == {
        "input_tokens": 7,
        "output_tokens": 3,
        "cached_input_tokens": 2,
    }
    assert usage_fields(None) == {} and usage_fields("text") == {}


def test_decorator_sync_and_async() -> None:
    sender = FakeSender()
    client = make_client(sender)

    @client.observe(feature="sum", model="m")
    def summarise(text: str) -> dict[str, Any]:
        return {"usage": {"prompt_tokens": len(text), "completion_tokens": 1}}

    @client.observe(feature="sum", model="m")
    async def summarise_async(text: str) -> str:
        return text.upper()

    assert summarise("abc")["usage"]["prompt_tokens"] == 3
    assert asyncio.run(summarise_async("abc")) == "ABC"
    assert summarise.__name__ == "summarise"
    assert client.flush(5)
    assert sum(len(call) for call in sender.calls) == 2
    client.shutdown()


def test_pending_events_are_flushed_at_interpreter_exit(tmp_path: Any) -> None:
    """A real process that records and exits without flushing: atexit delivers."""
    marker = tmp_path / "sent.txt"
    script = textwrap.dedent(
        f"""
        from vigil_client import VigilClient
        from vigil_client.transport import SendResult

        def sender(**kwargs):
            with open({str(marker)!r}, "a") as out:
                out.write("\\n".join(e["event_id"] for e in kwargs["events"]) + "\\n")
            return SendResult(delivered=True, accepted=len(kwargs["events"]))

        client = VigilClient(api_key="k", flush_interval_s=60, batch_size=1000, sender=sender)
        for i in range(3):
            client.record(event_id=f"exit-{{i}}", model="m", feature="f")
        """
    )
    repo_root = Path(vigil_client.__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-c", script], check=True, timeout=30, cwd=repo_root)
    assert marker.read_text().split() == ["exit-0", "exit-1", "exit-2"]
