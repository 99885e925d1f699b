"""Recording one LLM call: a context manager and a decorator around VigilClient.record.

    with vigil.llm_call(feature="chat", model="gpt-4o-mini", provider="openai") as call:
        response = openai_client.chat.completions.create(...)
        call.set_response(response)        # tokens, response model (OpenAI/Anthropic shapes)

    @vigil.observe(feature="summarise", model="claude-3-5-haiku", provider="anthropic")
    def summarise(text: str) -> Message: ...

The application's own exceptions pass through unchanged (and are recorded as
error/timeout/rate_limited/cancelled); recording itself never raises.
"""

from __future__ import annotations

import functools
import inspect
import logging
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, TypeVar

if TYPE_CHECKING:
    from vigil_client.client import VigilClient

logger = logging.getLogger("vigil_client")
F = TypeVar("F", bound=Callable[..., Any])


def _get(obj: Any, name: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def usage_fields(response: Any) -> dict[str, Any]:
    """Tokens and response model from an OpenAI- or Anthropic-shaped response (object or dict)."""
    fields: dict[str, Any] = {}
    model = _get(response, "model")
    if isinstance(model, str) and model:
        fields["response_model"] = model
    usage = _get(response, "usage")
    if usage is None:
        return fields
    input_tokens = _int(_get(usage, "prompt_tokens"))
    if input_tokens is None:
        input_tokens = _int(_get(usage, "input_tokens"))
    output_tokens = _int(_get(usage, "completion_tokens"))
    if output_tokens is None:
        output_tokens = _int(_get(usage, "output_tokens"))
    cached = _int(_get(_get(usage, "prompt_tokens_details"), "cached_tokens"))
    if cached is None:
        cached = _int(_get(_get(usage, "input_tokens_details"), "cached_tokens"))
    if cached is None:
        cached = _int(_get(usage, "cache_read_input_tokens"))
    reasoning = _int(_get(_get(usage, "completion_tokens_details"), "reasoning_tokens"))
    if reasoning is None:
        reasoning = _int(_get(_get(usage, "output_tokens_details"), "reasoning_tokens"))
    counts = {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cached_input_tokens": cached,
        "reasoning_tokens": reasoning,
    }
    fields.update({key: value for key, value in counts.items() if value is not None})
    return fields


def classify_exception(exc: BaseException) -> tuple[str, str]:
    """(status, error_type) for an exception raised by the LLM call."""
    cls = type(exc)
    error_type = f"{cls.__module__}.{cls.__qualname__}"[:128]
    names = " ".join(klass.__name__.lower() for klass in cls.__mro__)
    status_code = _get(exc, "status_code")
    if isinstance(exc, TimeoutError) or "timeout" in names or status_code in {408, 504}:
        return "timeout", error_type
    if "ratelimit" in names or status_code == 429:
        return "rate_limited", error_type
    if "cancelled" in names or isinstance(exc, KeyboardInterrupt):
        return "cancelled", error_type
    return "error", error_type


class LLMCall:
    """Times one call; records it on exit with status derived from any exception."""

    def __init__(self, client: VigilClient, fields: dict[str, Any]) -> None:
        self.client = client
        self.fields: dict[str, Any] = dict(fields)
        self.event_id: str = str(self.fields.pop("event_id", None) or uuid.uuid4().hex)
        self._started_at = datetime.now(UTC)
        self._t0 = time.perf_counter()
        self._first_token_ms: float | None = None

    def __enter__(self) -> LLMCall:
        self._started_at = datetime.now(UTC)
        self._t0 = time.perf_counter()
        return self

    def set(self, **fields: Any) -> None:
        """Set any event field (customer, endpoint, input, output, attributes...)."""
        self.fields.update(fields)

    def set_usage(self, **tokens: int | None) -> None:
        self.fields.update({key: value for key, value in tokens.items() if value is not None})

    def set_response(self, response: Any) -> None:
        try:
            self.fields.update(usage_fields(response))
        except Exception:
            logger.exception("vigil_client: could not read usage from the response")

    def mark_first_token(self) -> None:
        if self._first_token_ms is None:
            self._first_token_ms = (time.perf_counter() - self._t0) * 1000

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> Literal[False]:
        try:
            latency_ms = (time.perf_counter() - self._t0) * 1000
            event = {
                "latency_ms": round(latency_ms, 3),
                "time_to_first_token_ms": self._first_token_ms,
                **self.fields,
                "event_id": self.event_id,
                "timestamp": self._started_at.isoformat(),
            }
            if exc is not None and "status" not in self.fields:
                event["status"], event["error_type"] = classify_exception(exc)
            self.client.record(**event)
        except Exception:
            logger.exception("vigil_client: could not record an LLM call")
        return False  # never swallow the application's exception


def observe(client: VigilClient, **fields: Any) -> Callable[[F], F]:
    """Decorator form of LLMCall, for sync and async functions."""

    def decorate(function: F) -> F:
        if inspect.iscoroutinefunction(function):

            @functools.wraps(function)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                with LLMCall(client, fields) as call:
                    result = await function(*args, **kwargs)
                    call.set_response(result)
                    return result

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with LLMCall(client, fields) as call:
                result = function(*args, **kwargs)
                call.set_response(result)
                return result

        return wrapper  # type: ignore[return-value]

    return decorate
