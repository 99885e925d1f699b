"""Match a model name to the shipped price table and compute an event's cost.

Matching is forgiving about how SDKs spell a model: case, provider prefixes
("openai/gpt-4o", "models/gemini-1.5-pro", "anthropic.claude-3-5-sonnet-...-v1:0"),
dated snapshots ("gpt-4o-2024-08-06", "claude-3-5-sonnet-20241022",
"claude-3-5-sonnet@20240620"), "-latest", "-preview" and numeric revisions
("gemini-1.5-pro-002"). It never falls back to a shorter prefix ("gpt-4.5" is
not "gpt-4"): an unknown model stays unpriced rather than priced wrongly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache

from metrics.pricing.prices import ALIASES, PRICE_TABLE_VERSION, PRICES

MILLION = Decimal(1_000_000)
COST_QUANTUM = Decimal("0.0000000001")  # Event.cost_usd has 10 decimal places

_PREFIXES = re.compile(
    r"^(?:openai|anthropic|google|vertex_ai|gemini|mistral|mistralai|cohere|deepseek|together|"
    r"together_ai|groq|bedrock|azure|models|us|eu|apac)[/.:]"
)
_SUFFIXES = (
    re.compile(r"-v\d+(?::\d+)?$"),  # Bedrock "-v1:0"
    re.compile(r"@\d{8}$"),  # Vertex "@20240620"
    re.compile(r"-\d{4}-\d{2}-\d{2}$"),  # OpenAI "-2024-08-06"
    re.compile(r"-\d{8}$"),  # Anthropic "-20241022"
    re.compile(r"-(?:latest|preview|exp)$"),
    re.compile(r"-(?:preview|exp)-\d{2}-\d{2}$"),  # Gemini "-preview-05-20"
    re.compile(r"-\d{3}$"),  # Gemini "-002"
    re.compile(r"-\d{4}$"),  # Mistral "-2411"
)


@dataclass(frozen=True)
class Price:
    key: str  # canonical model name (or override label)
    since: date
    input_per_m: Decimal
    output_per_m: Decimal
    cached_input_per_m: Decimal
    version: str  # stored as Event.price_version

    def cost(self, *, input_tokens: int, output_tokens: int, cached_input_tokens: int) -> Decimal:
        """Cached tokens are part of input_tokens (OpenAI convention), billed at the cached rate."""
        cached = min(max(cached_input_tokens, 0), max(input_tokens, 0))
        uncached = max(input_tokens, 0) - cached
        total = (
            uncached * self.input_per_m
            + cached * self.cached_input_per_m
            + max(output_tokens, 0) * self.output_per_m
        ) / MILLION
        return total.quantize(COST_QUANTUM)


def normalize_model(name: str) -> str:
    return " ".join(name.split()).lower()


def _candidates(name: str) -> list[str]:
    """`name`, then stripped of prefixes and version suffixes, step by step."""
    seen = [name]
    current = name
    while True:
        stripped = _PREFIXES.sub("", current, count=1)
        if stripped == current:
            for pattern in _SUFFIXES:
                stripped = pattern.sub("", current, count=1)
                if stripped != current:
                    break
        if stripped == current or not stripped:
            return seen
        current = stripped
        seen.append(current)


@lru_cache(maxsize=4096)
def canonical_model(model: str, provider: str = "") -> str | None:
    """The price-table key for a model name as an SDK reports it, or None if unknown."""
    name = normalize_model(model)
    provider = normalize_model(provider)
    for candidate in _candidates(name):
        if provider and f"{provider}:{candidate}" in PRICES:
            return f"{provider}:{candidate}"
        if candidate in ALIASES:
            return ALIASES[candidate]
        if candidate in PRICES:
            return candidate
    return None


@lru_cache(maxsize=1)
def _table() -> dict[str, list[Price]]:
    table: dict[str, list[Price]] = {}
    for key, (_provider, prices) in PRICES.items():
        rows = []
        for p in prices:
            since = date.fromisoformat(p.since)
            rows.append(
                Price(
                    key=key,
                    since=since,
                    input_per_m=Decimal(p.input),
                    output_per_m=Decimal(p.output),
                    cached_input_per_m=Decimal(p.cached if p.cached is not None else p.input),
                    version=f"table-{PRICE_TABLE_VERSION}:{key}@{p.since}",
                )
            )
        table[key] = sorted(rows, key=lambda row: row.since)
    return table


def table_price(model: str, provider: str, day: date) -> Price | None:
    """The shipped list price in effect on `day`, or None (unknown model, or before any price)."""
    key = canonical_model(model, provider)
    if key is None:
        return None
    found = None
    for price in _table()[key]:
        if price.since <= day:
            found = price
    return found
