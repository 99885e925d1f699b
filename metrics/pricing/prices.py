"""Vigil's shipped model price table: list prices in USD per 1M tokens.

Each model has one or more prices, each with the date it took effect; an
event is priced with the newest price whose `since` is not after the event's
day. `cached` is the price of cached (prompt-cache read) input tokens; `None`
means the provider has no discount and cached tokens cost the input price.
Prices are the providers' public list prices (standard tier, text, prompts
under any long-context surcharge threshold). Tenants with negotiated rates add
per-tenant overrides (metrics.pricing.models.PriceOverride), which win.

Bump PRICE_TABLE_VERSION whenever a price is added or changed: it is stored
with every priced event (`price_version`) so a cost can always be explained.
"""

from __future__ import annotations

from typing import NamedTuple

PRICE_TABLE_VERSION = "2025.11"


class P(NamedTuple):
    since: str  # ISO date the price took effect
    input: str  # USD per 1M input tokens (uncached)
    output: str  # USD per 1M output tokens (reasoning tokens are billed as output)
    cached: str | None = None  # USD per 1M cached input tokens


# canonical model name -> (provider, [prices, oldest first])
PRICES: dict[str, tuple[str, list[P]]] = {
    # --- OpenAI ---------------------------------------------------------
    "gpt-5": ("openai", [P("2025-08-07", "1.25", "10.00", "0.125")]),
    "gpt-5-mini": ("openai", [P("2025-08-07", "0.25", "2.00", "0.025")]),
    "gpt-5-nano": ("openai", [P("2025-08-07", "0.05", "0.40", "0.005")]),
    "gpt-4.1": ("openai", [P("2025-04-14", "2.00", "8.00", "0.50")]),
    "gpt-4.1-mini": ("openai", [P("2025-04-14", "0.40", "1.60", "0.10")]),
    "gpt-4.1-nano": ("openai", [P("2025-04-14", "0.10", "0.40", "0.025")]),
    "gpt-4o": (
        "openai",
        [P("2024-05-13", "5.00", "15.00"), P("2024-08-06", "2.50", "10.00", "1.25")],
    ),
    "gpt-4o-mini": ("openai", [P("2024-07-18", "0.15", "0.60", "0.075")]),
    "gpt-4-turbo": ("openai", [P("2024-04-09", "10.00", "30.00")]),
    "gpt-4": ("openai", [P("2023-03-14", "30.00", "60.00")]),
    "gpt-3.5-turbo": ("openai", [P("2024-01-25", "0.50", "1.50")]),
    "o1": ("openai", [P("2024-12-17", "15.00", "60.00", "7.50")]),
    "o1-mini": ("openai", [P("2024-09-12", "1.10", "4.40", "0.55")]),
    "o3": (
        "openai",
        [P("2025-04-16", "10.00", "40.00", "2.50"), P("2025-06-10", "2.00", "8.00", "0.50")],
    ),
    "o3-mini": ("openai", [P("2025-01-31", "1.10", "4.40", "0.55")]),
    "o4-mini": ("openai", [P("2025-04-16", "1.10", "4.40", "0.275")]),
    "text-embedding-3-small": ("openai", [P("2024-01-25", "0.02", "0")]),
    "text-embedding-3-large": ("openai", [P("2024-01-25", "0.13", "0")]),
    # --- Anthropic (cached = prompt-cache read) -------------------------
    "claude-opus-4-5": ("anthropic", [P("2025-11-24", "5.00", "25.00", "0.50")]),
    "claude-opus-4-1": ("anthropic", [P("2025-08-05", "15.00", "75.00", "1.50")]),
    "claude-opus-4": ("anthropic", [P("2025-05-22", "15.00", "75.00", "1.50")]),
    "claude-sonnet-4-5": ("anthropic", [P("2025-09-29", "3.00", "15.00", "0.30")]),
    "claude-sonnet-4": ("anthropic", [P("2025-05-22", "3.00", "15.00", "0.30")]),
    "claude-haiku-4-5": ("anthropic", [P("2025-10-15", "1.00", "5.00", "0.10")]),
    "claude-3-7-sonnet": ("anthropic", [P("2025-02-24", "3.00", "15.00", "0.30")]),
    "claude-3-5-sonnet": ("anthropic", [P("2024-06-20", "3.00", "15.00", "0.30")]),
    "claude-3-5-haiku": ("anthropic", [P("2024-10-22", "0.80", "4.00", "0.08")]),
    "claude-3-opus": ("anthropic", [P("2024-02-29", "15.00", "75.00", "1.50")]),
    "claude-3-haiku": ("anthropic", [P("2024-03-07", "0.25", "1.25", "0.03")]),
    # --- Google ---------------------------------------------------------
    "gemini-2.5-pro": ("google", [P("2025-06-17", "1.25", "10.00", "0.125")]),
    "gemini-2.5-flash": ("google", [P("2025-06-17", "0.30", "2.50", "0.03")]),
    "gemini-2.5-flash-lite": ("google", [P("2025-07-22", "0.10", "0.40", "0.01")]),
    "gemini-2.0-flash": ("google", [P("2025-02-05", "0.10", "0.40", "0.025")]),
    "gemini-2.0-flash-lite": ("google", [P("2025-02-25", "0.075", "0.30")]),
    "gemini-1.5-pro": ("google", [P("2024-10-01", "1.25", "5.00", "0.3125")]),
    "gemini-1.5-flash": ("google", [P("2024-08-12", "0.075", "0.30", "0.01875")]),
    # --- Mistral --------------------------------------------------------
    "mistral-large": ("mistral", [P("2024-11-18", "2.00", "6.00")]),
    "mistral-medium": ("mistral", [P("2025-05-07", "0.40", "2.00")]),
    "mistral-small": ("mistral", [P("2025-03-17", "0.10", "0.30")]),
    "codestral": ("mistral", [P("2025-01-13", "0.30", "0.90")]),
    "pixtral-large": ("mistral", [P("2024-11-18", "2.00", "6.00")]),
    "ministral-8b": ("mistral", [P("2024-10-16", "0.10", "0.10")]),
    "ministral-3b": ("mistral", [P("2024-10-16", "0.04", "0.04")]),
    "open-mistral-nemo": ("mistral", [P("2024-07-18", "0.15", "0.15")]),
    # --- Meta Llama, hosted (Together AI model ids) ---------------------
    "meta-llama/llama-4-maverick-17b-128e-instruct-fp8": (
        "together",
        [P("2025-04-05", "0.27", "0.85")],
    ),
    "meta-llama/llama-4-scout-17b-16e-instruct": ("together", [P("2025-04-05", "0.18", "0.59")]),
    "meta-llama/llama-3.3-70b-instruct-turbo": ("together", [P("2024-12-06", "0.88", "0.88")]),
    "meta-llama/meta-llama-3.1-405b-instruct-turbo": (
        "together",
        [P("2024-07-23", "3.50", "3.50")],
    ),
    "meta-llama/meta-llama-3.1-70b-instruct-turbo": ("together", [P("2024-07-23", "0.88", "0.88")]),
    "meta-llama/meta-llama-3.1-8b-instruct-turbo": ("together", [P("2024-07-23", "0.18", "0.18")]),
    # --- Meta Llama, hosted (Groq model ids) ----------------------------
    "llama-3.3-70b-versatile": ("groq", [P("2024-12-06", "0.59", "0.79")]),
    "llama-3.1-8b-instant": ("groq", [P("2024-07-23", "0.05", "0.08")]),
    "meta-llama/llama-4-maverick-17b-128e-instruct": ("groq", [P("2025-04-05", "0.20", "0.60")]),
    # Same id as Together's: a "provider:model" key is tried first when the event names one.
    "groq:meta-llama/llama-4-scout-17b-16e-instruct": ("groq", [P("2025-04-05", "0.11", "0.34")]),
    # --- Cohere ---------------------------------------------------------
    "command-a": ("cohere", [P("2025-03-13", "2.50", "10.00")]),
    "command-r-plus": ("cohere", [P("2024-08-30", "2.50", "10.00")]),
    "command-r": ("cohere", [P("2024-08-30", "0.15", "0.60")]),
    "command-r7b": ("cohere", [P("2024-12-13", "0.0375", "0.15")]),
    # --- DeepSeek (cached = cache hit) ----------------------------------
    "deepseek-chat": (
        "deepseek",
        [P("2025-02-08", "0.27", "1.10", "0.07"), P("2025-09-29", "0.28", "0.42", "0.028")],
    ),
    "deepseek-reasoner": (
        "deepseek",
        [P("2025-01-20", "0.55", "2.19", "0.14"), P("2025-09-29", "0.28", "0.42", "0.028")],
    ),
}

# Other names for the same model (lower case). Dated versions ("-2024-08-06",
# "-20241022", "@20240620"), "-latest", "-NNN" revisions and provider prefixes
# ("openai/", "models/", "anthropic.") are stripped by the matcher, not listed.
ALIASES: dict[str, str] = {
    "chatgpt-4o": "gpt-4o",
    "gpt-4-turbo-preview": "gpt-4-turbo",
    "claude-3.5-sonnet": "claude-3-5-sonnet",
    "claude-3.7-sonnet": "claude-3-7-sonnet",
    "claude-3.5-haiku": "claude-3-5-haiku",
    "claude-sonnet-4.5": "claude-sonnet-4-5",
    "claude-4-sonnet": "claude-sonnet-4",
    "claude-4-opus": "claude-opus-4",
    "claude-opus-4.1": "claude-opus-4-1",
    "claude-opus-4.5": "claude-opus-4-5",
    "claude-haiku-4.5": "claude-haiku-4-5",
    "mistral-large-2411": "mistral-large",
    "mistral-medium-2505": "mistral-medium",
    "mistral-small-2503": "mistral-small",
    "codestral-2501": "codestral",
    "mistral-nemo": "open-mistral-nemo",
    "llama-3.3-70b-instruct-turbo": "meta-llama/llama-3.3-70b-instruct-turbo",
    "command-a-03-2025": "command-a",
    "command-r-plus-08-2024": "command-r-plus",
    "command-r-08-2024": "command-r",
    "command-r7b-12-2024": "command-r7b",
    "deepseek-v3": "deepseek-chat",
    "deepseek-r1": "deepseek-reasoner",
}
