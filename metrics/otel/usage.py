"""Token usage and cost read from the three span dialects (GenAI, OpenInference, Langfuse).

The table of which attribute feeds which event field is in docs/otel.md; keep both in step.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from metrics.otel.attrs import Attrs, as_float, as_int, first, maybe_json

INPUT_KEYS = (
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.prompt_tokens",
    "llm.token_count.prompt",
    "llm.usage.prompt_tokens",
)
OUTPUT_KEYS = (
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.completion_tokens",
    "llm.token_count.completion",
    "llm.usage.completion_tokens",
)
CACHED_KEYS = (
    "gen_ai.usage.cache_read.input_tokens",
    "gen_ai.usage.cache_read_input_tokens",
    "gen_ai.usage.cached_input_tokens",
    "llm.token_count.prompt_details.cache_read",
)
REASONING_KEYS = (
    "gen_ai.usage.reasoning_tokens",
    "gen_ai.usage.output_tokens_details.reasoning_tokens",
    "llm.token_count.completion_details.reasoning",
)
TOTAL_KEYS = ("gen_ai.usage.total_tokens", "llm.token_count.total", "llm.usage.total_tokens")
# Langfuse usage_details: its own names, or the provider's usage object as the SDK got it.
LANGFUSE_INPUT = ("input", "prompt_tokens", "input_tokens", "promptTokens")
LANGFUSE_OUTPUT = ("output", "completion_tokens", "output_tokens", "completionTokens")
LANGFUSE_CACHED = (
    "input_cache_read",
    "input_cached_tokens",
    "cache_read_input_tokens",
    "prompt_tokens_details.cached_tokens",
    "input_tokens_details.cached_tokens",
)
LANGFUSE_REASONING = (
    "output_reasoning",
    "output_reasoning_tokens",
    "reasoning_tokens",
    "completion_tokens_details.reasoning_tokens",
    "output_tokens_details.reasoning_tokens",
)
COST_KEYS = ("vigil.cost_usd", "gen_ai.usage.cost", "llm.cost.total")


@dataclass(frozen=True)
class Usage:
    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_input_tokens: int | None = None
    reasoning_tokens: int | None = None
    cost_usd: str | None = None  # a decimal string: money never goes through float here

    def as_event_fields(self) -> dict[str, Any]:
        fields = {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cached_input_tokens": self.cached_input_tokens,
            "reasoning_tokens": self.reasoning_tokens,
            "cost_usd": self.cost_usd,
        }
        return {key: value for key, value in fields.items() if value is not None}


def _flatten(details: dict[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in details.items():
        if isinstance(value, dict):
            for inner_key, inner_value in value.items():
                flat[f"{key}.{inner_key}"] = inner_value
        else:
            flat[str(key)] = value
    return flat


def _decimal_text(value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return str(amount) if amount.is_finite() else None


def _langfuse_cost(attrs: Attrs) -> str | None:
    details = maybe_json(attrs.get("langfuse.observation.cost_details"))
    if not isinstance(details, dict) or not details:
        return None
    if "total" in details:
        return _decimal_text(details["total"])
    parts = [_decimal_text(value) for value in details.values()]
    if any(part is None for part in parts):
        return None
    return str(sum((Decimal(part) for part in parts if part is not None), Decimal(0)))


def _langfuse_usage(attrs: Attrs) -> Usage | None:
    details = maybe_json(attrs.get("langfuse.observation.usage_details"))
    if not isinstance(details, dict) or not details:
        return None
    flat = _flatten(details)
    input_tokens = as_int(first(flat, LANGFUSE_INPUT))
    output_tokens = as_int(first(flat, LANGFUSE_OUTPUT))
    total = as_int(first(flat, ("total", "total_tokens", "totalTokens")))
    if output_tokens is None and total is not None and input_tokens is not None:
        output_tokens = max(total - input_tokens, 0)
    return Usage(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cached_input_tokens=as_int(first(flat, LANGFUSE_CACHED)),
        reasoning_tokens=as_int(first(flat, LANGFUSE_REASONING)),
    )


def span_usage(attrs: Attrs) -> Usage:
    """Tokens and client-known cost of one LLM span; absent counts stay None."""
    langfuse = _langfuse_usage(attrs)
    input_tokens = as_int(first(attrs, INPUT_KEYS))
    output_tokens = as_int(first(attrs, OUTPUT_KEYS))
    total = as_int(first(attrs, TOTAL_KEYS))
    if output_tokens is None and total is not None and input_tokens is not None:
        output_tokens = max(total - input_tokens, 0)
    cost = _decimal_text(first(attrs, COST_KEYS)) or _langfuse_cost(attrs)
    usage = Usage(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cached_input_tokens=as_int(first(attrs, CACHED_KEYS)),
        reasoning_tokens=as_int(first(attrs, REASONING_KEYS)),
        cost_usd=cost,
    )
    if langfuse is None:
        return usage
    # Explicit GenAI/OpenInference counts win; Langfuse usage fills the gaps.
    return Usage(
        input_tokens=usage.input_tokens
        if usage.input_tokens is not None
        else langfuse.input_tokens,
        output_tokens=(
            usage.output_tokens if usage.output_tokens is not None else langfuse.output_tokens
        ),
        cached_input_tokens=(
            usage.cached_input_tokens
            if usage.cached_input_tokens is not None
            else langfuse.cached_input_tokens
        ),
        reasoning_tokens=(
            usage.reasoning_tokens
            if usage.reasoning_tokens is not None
            else langfuse.reasoning_tokens
        ),
        cost_usd=cost,
    )


def seconds_to_ms(value: Any) -> float | None:
    seconds = as_float(value)
    return None if seconds is None else seconds * 1000.0
