"""Span dicts (as `decode` produces them) -> event dicts / trace-context dicts. No database."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from metrics.ingest.schema import check_event
from metrics.otel.mapping import event_id_for, llm_dialect, span_to_context, span_to_event

TRACE = "0af7651916cd43dd8448eb211c80319c"
SPAN = "b7ad6b7169203331"
PARENT = "00f067aa0ba902b7"
START = 1_780_000_000_000_000_000  # 2026-05-28T20:26:40Z


def make_span(attributes: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    span: dict[str, Any] = {
        "trace_id": TRACE,
        "span_id": SPAN,
        "parent_span_id": PARENT,
        "name": "chat gpt-4o-mini",
        "kind": "client",
        "start_time_unix_nano": START,
        "end_time_unix_nano": START + 1_250_000_000,
        "status_code": "unset",
        "status_message": "",
        "attributes": attributes,
        "resource": {"service.name": "support-bot", "service.version": "2.3.1"},
        "scope": {"name": "opentelemetry.instrumentation.openai.v1", "version": "0.62"},
        "events": [],
    }
    span.update(overrides)
    return span


GENAI = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o-mini",
    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
    "gen_ai.usage.input_tokens": 12,
    "gen_ai.usage.output_tokens": 5,
    "gen_ai.input.messages": '[{"role": "user", "parts": [{"content": "hello"}]}]',
    "gen_ai.output.messages": '[{"role": "assistant", "parts": [{"content": "hi"}]}]',
}


def test_genai_chat_span_becomes_an_event_with_every_mapped_field() -> None:
    event = span_to_event(make_span(GENAI))
    assert event["event_id"] == f"otel-{TRACE}-{SPAN}"
    assert event["timestamp"] == "2026-05-28T20:26:40+00:00"
    assert event["feature"] == "support-bot"  # service.name when nothing more specific
    assert event["model"] == "gpt-4o-mini"
    assert event["response_model"] == "gpt-4o-mini-2024-07-18"
    assert event["provider"] == "openai"
    assert event["input_tokens"] == 12
    assert event["output_tokens"] == 5
    assert event["latency_ms"] == 1250.0
    assert event["status"] == "ok"
    assert event["release"] == "2.3.1"
    assert (event["trace_id"], event["span_id"], event["parent_span_id"]) == (TRACE, SPAN, PARENT)
    assert "hello" in event["input"] and "hi" in event["output"]
    # Content never leaks into the free attributes.
    assert "gen_ai.input.messages" not in event["attributes"]
    assert event["attributes"]["gen_ai.operation.name"] == "chat"
    assert event["attributes"]["otel.span_name"] == "chat gpt-4o-mini"


def test_event_id_is_deterministic_and_case_insensitive() -> None:
    assert event_id_for(TRACE.upper(), SPAN.upper()) == event_id_for(TRACE, SPAN)
    first = span_to_event(make_span(GENAI))
    again = span_to_event(make_span(GENAI))
    assert first["event_id"] == again["event_id"]
    assert (
        span_to_event(make_span(GENAI, span_id="1111111111111111"))["event_id"] != first["event_id"]
    )


def test_older_prompt_completion_token_names_and_gen_ai_system() -> None:
    attrs = {
        "gen_ai.system": "Anthropic",
        "llm.request.type": "chat",
        "gen_ai.request.model": "claude-3-5-sonnet",
        "gen_ai.usage.prompt_tokens": "100",
        "gen_ai.usage.completion_tokens": 40,
        "gen_ai.prompt.0.role": "user",
        "gen_ai.prompt.0.content": "question?",
        "gen_ai.completion.0.content": "answer.",
    }
    assert llm_dialect(attrs) == "genai"
    event = span_to_event(make_span(attrs))
    assert (event["input_tokens"], event["output_tokens"]) == (100, 40)
    assert event["provider"] == "Anthropic"
    assert "question?" in event["input"] and "answer." in event["output"]


def test_labels_from_vigil_attributes_span_over_resource() -> None:
    attrs = {**GENAI, "vigil.feature": "search", "vigil.customer": "acme-eu"}
    resource = {
        "service.name": "svc",
        "vigil.feature": "resource-feature",
        "vigil.endpoint": "/v1/search",
        "deployment.environment.name": "staging",
        "vigil.release": "prompt-v7",
        "tenant.id": "ignored-when-vigil-customer",
    }
    event = span_to_event(make_span(attrs, resource=resource))
    assert event["feature"] == "search"
    assert event["customer"] == "acme-eu"
    assert event["endpoint"] == "/v1/search"
    assert event["environment"] == "staging"
    assert event["release"] == "prompt-v7"


def test_customer_from_tenant_id_and_environment_from_old_key() -> None:
    resource = {"service.name": "svc", "deployment.environment": "prod-eu", "tenant.id": "t-42"}
    event = span_to_event(make_span(GENAI, resource=resource))
    assert event["customer"] == "t-42"
    assert event["environment"] == "prod-eu"


def test_openinference_llm_span() -> None:
    attrs = {
        "openinference.span.kind": "LLM",
        "llm.model_name": "mistral-large-latest",
        "llm.provider": "mistralai",
        "llm.token_count.prompt": 300,
        "llm.token_count.completion": 20,
        "llm.token_count.prompt_details.cache_read": 100,
        "input.value": "What is Vigil?",
        "output.value": "A monitor.",
        "session.id": "sess-1",
        "user.id": "user-9",
    }
    assert llm_dialect(attrs) == "openinference"
    event = span_to_event(make_span(attrs))
    assert event["model"] == "mistral-large-latest"
    assert event["provider"] == "mistralai"
    assert (event["input_tokens"], event["output_tokens"], event["cached_input_tokens"]) == (
        300,
        20,
        100,
    )
    assert (event["input"], event["output"]) == ("What is Vigil?", "A monitor.")
    assert (event["session_id"], event["user_id"]) == ("sess-1", "user-9")


def test_openinference_chain_and_genai_agent_spans_are_context() -> None:
    assert llm_dialect({"openinference.span.kind": "CHAIN", "llm.model_name": "x"}) is None
    assert (
        llm_dialect({"gen_ai.operation.name": "invoke_agent", "gen_ai.request.model": "x"}) is None
    )
    assert llm_dialect({"http.route": "/chat"}) is None
    assert llm_dialect({"langfuse.observation.type": "span"}) is None


def test_langfuse_generation_span() -> None:
    attrs = {
        "langfuse.observation.type": "generation",
        "langfuse.observation.model.name": "gpt-4o",
        "langfuse.observation.usage_details": json.dumps(
            {
                "prompt_tokens": 50,
                "completion_tokens": 7,
                "total_tokens": 57,
                "prompt_tokens_details": {"cached_tokens": 10},
            }
        ),
        "langfuse.observation.cost_details": json.dumps({"input": 0.001, "output": 0.0005}),
        "langfuse.trace.name": "answer-question",
        "user.id": "u-1",
        "session.id": "s-1",
        "langfuse.environment": "default",
        "langfuse.release": "r-12",
        "langfuse.observation.metadata.customer": '"globex"',
        "langfuse.observation.metadata.content_category": '"billing"',
        "langfuse.observation.input": '[{"role": "user", "content": "hi"}]',
        "langfuse.observation.output": '"hello"',
        "langfuse.observation.completion_start_time": '"2026-05-28T20:26:40.300000+00:00"',
    }
    assert llm_dialect(attrs) == "langfuse"
    event = span_to_event(make_span(attrs, resource={"service.name": "unknown_service"}))
    assert event["feature"] == "answer-question"
    assert event["model"] == "gpt-4o"
    assert (event["input_tokens"], event["output_tokens"], event["cached_input_tokens"]) == (
        50,
        7,
        10,
    )
    assert event["cost_usd"] == "0.0015"
    assert event["customer"] == "globex"
    assert event["content_category"] == "billing"
    assert (event["user_id"], event["session_id"], event["release"]) == ("u-1", "s-1", "r-12")
    assert "environment" not in event  # Langfuse's "default" leaves Vigil's default in place
    assert abs(event["time_to_first_token_ms"] - 300.0) < 0.01


def test_langfuse_native_usage_names_and_total_cost() -> None:
    attrs = {
        "langfuse.observation.type": "generation",
        "langfuse.observation.model.name": "gemini-1.5-pro",
        "langfuse.observation.usage_details": json.dumps(
            {"input": 10, "output": 3, "input_cache_read": 4, "output_reasoning": 2}
        ),
        "langfuse.observation.cost_details": '{"total": 0.25}',
        "langfuse.observation.metadata.feature": '"summarise"',
    }
    event = span_to_event(make_span(attrs))
    assert (event["input_tokens"], event["output_tokens"]) == (10, 3)
    assert (event["cached_input_tokens"], event["reasoning_tokens"]) == (4, 2)
    assert event["cost_usd"] == "0.25"
    assert event["feature"] == "summarise"


def test_error_statuses_map_to_event_statuses() -> None:
    def status_of(**kwargs: Any) -> tuple[str, str]:
        attrs = {**GENAI, **kwargs.pop("attrs", {})}
        event = span_to_event(make_span(attrs, **kwargs))
        return event["status"], event.get("error_type", "")

    assert status_of(status_code="error", status_message="boom") == ("error", "")
    assert status_of(status_code="error", attrs={"error.type": "openai.APITimeoutError"}) == (
        "timeout",
        "openai.APITimeoutError",
    )
    assert (
        status_of(status_code="error", attrs={"error.type": "RateLimitError"})[0] == "rate_limited"
    )
    assert (
        status_of(status_code="error", attrs={"http.response.status_code": 429})[0]
        == "rate_limited"
    )
    assert status_of(status_code="error", status_message="Request timed out")[0] == "timeout"
    assert status_of(
        status_code="error",
        events=[
            {
                "name": "exception",
                "time_unix_nano": START,
                "attributes": {"exception.type": "asyncio.CancelledError"},
            }
        ],
    ) == ("cancelled", "asyncio.CancelledError")
    assert status_of(attrs={"langfuse.observation.level": "ERROR"})[0] == "error"
    assert status_of(status_code="ok")[0] == "ok"
    assert status_of(attrs={"vigil.status": "rate_limited"})[0] == "rate_limited"


def test_time_to_first_token_from_a_span_event() -> None:
    events = [
        {
            "name": "gen_ai.content.completion.chunk",
            "time_unix_nano": START + 80_000_000,
            "attributes": {},
        }
    ]
    event = span_to_event(make_span(GENAI, events=events))
    assert event["time_to_first_token_ms"] == 80.0


def test_missing_model_is_left_out_for_the_pipeline_to_reject() -> None:
    event = span_to_event(make_span({"gen_ai.operation.name": "chat"}))
    assert "model" not in event
    assert event["feature"] == "support-bot"


def test_unparseable_numbers_are_ignored_not_fatal() -> None:
    attrs = {
        **GENAI,
        "gen_ai.usage.input_tokens": "lots",
        "gen_ai.usage.output_tokens": float("nan"),
    }
    event = span_to_event(make_span(attrs))
    assert "input_tokens" not in event and "output_tokens" not in event


def test_non_llm_span_becomes_trace_context() -> None:
    attrs = {"http.route": "/chat", "http.request.method": "POST", "input.value": "secret prompt"}
    span = make_span(
        attrs, name="POST /chat", kind="server", status_code="error", status_message="500"
    )
    context = span_to_context(span)
    assert context["trace_id"] == TRACE and context["span_id"] == SPAN
    assert context["parent_span_id"] == PARENT
    assert context["name"] == "POST /chat" and context["kind"] == "server"
    assert context["service_name"] == "support-bot"
    assert context["duration_ms"] == 1250.0
    assert context["status"] == "error" and context["status_message"] == "500"
    assert context["attributes"] == {"http.request.method": "POST", "http.route": "/chat"}
    assert context["start"].tzinfo is not None


def test_trace_context_attributes_are_bounded() -> None:
    attrs = {f"k{i:03}": "v" * 5000 for i in range(200)}
    context = span_to_context(make_span(attrs))
    assert len(context["attributes"]) == 64
    assert all(len(value) == 1000 for value in context["attributes"].values())


def test_event_attributes_stay_inside_the_pipeline_limit() -> None:
    attrs = {**GENAI, **{f"k{i:03}": "v" * 5000 for i in range(200)}}
    span = make_span(attrs, start_time_unix_nano=time.time_ns())
    span["end_time_unix_nano"] = span["start_time_unix_nano"] + 1_000_000
    event = span_to_event(span)
    assert len(json.dumps(event["attributes"], separators=(",", ":")).encode()) <= 12_500
    assert all(len(str(value)) <= 256 for value in event["attributes"].values())
    # The real contract: the ingest pipeline's validator accepts the event as mapped.
    assert check_event(event, now=datetime.now(UTC)).errors == {}


def test_free_attributes_are_redacted() -> None:
    attrs = {**GENAI, "app.note": "call bob@example.com, key sk-proj-abcdefghijklmnopqrstuvwx"}
    event = span_to_event(make_span(attrs))
    context = span_to_context(make_span({"app.note": attrs["app.note"]}))
    for stored in (event["attributes"]["app.note"], context["attributes"]["app.note"]):
        assert "bob@example.com" not in stored and "sk-proj-" not in stored
