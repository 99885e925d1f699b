"""vigil_client: report LLM calls to Vigil from applications without OpenTelemetry.

    from vigil_client import VigilClient
    vigil = VigilClient(api_key=os.environ["VIGIL_API_KEY"], base_url="https://vigil.example.com",
                        feature="support-bot", environment="production")
    with vigil.llm_call(model="gpt-4o-mini", provider="openai", customer="acme") as call:
        call.set_response(openai_client.chat.completions.create(...))

Standard library only. See docs/client.md for the guarantees (bounded queue,
retries with the same event ids, flush at exit, never raises).
"""

from __future__ import annotations

import os

from vigil_client.client import VigilClient
from vigil_client.recording import LLMCall, classify_exception, usage_fields

__all__ = ["LLMCall", "VigilClient", "classify_exception", "from_env", "usage_fields"]


def from_env(**overrides: object) -> VigilClient:
    """A client from VIGIL_API_KEY, VIGIL_BASE_URL, VIGIL_FEATURE, VIGIL_ENVIRONMENT, VIGIL_RELEASE.

    Without VIGIL_API_KEY the client is disabled: it records nothing and sends nothing.
    """
    settings: dict[str, object] = {
        "api_key": os.environ.get("VIGIL_API_KEY", ""),
        "base_url": os.environ.get("VIGIL_BASE_URL", "http://localhost:8000"),
        "feature": os.environ.get("VIGIL_FEATURE", ""),
        "environment": os.environ.get("VIGIL_ENVIRONMENT", ""),
        "release": os.environ.get("VIGIL_RELEASE", ""),
    }
    settings.update(overrides)
    return VigilClient(**settings)  # type: ignore[arg-type]
