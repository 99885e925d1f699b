"""Real clients over real HTTP: the OpenTelemetry SDK's OTLP/HTTP exporter, and the `openai`
client instrumented by OpenLLMetry's opentelemetry-instrumentation-openai, calling a local
fake OpenAI server. The spans must land in Vigil as priced events of the key's tenant.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import openai
import pytest
from django_tenants.utils import tenant_context
from opentelemetry import baggage, context
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.openai import OpenAIInstrumentor
from opentelemetry.processor.baggage import ALLOW_ALL_BAGGAGE_KEYS, BaggageSpanProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode, format_span_id, format_trace_id

from metrics.otel.selectors import trace_spans

from .conftest import LiveKey, events_where, spans_where, unique

pytestmark = pytest.mark.usefixtures("committed_db")


def exporter_for(
    live_server_url: str, key: LiveKey, *, compression: Compression | None = None
) -> OTLPSpanExporter:
    return OTLPSpanExporter(
        endpoint=f"{live_server_url}/api/otel/v1/traces",
        headers={"Authorization": f"Bearer {key.raw}"},
        timeout=10,
        compression=compression,
    )


@pytest.fixture
def instrumented() -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    """A private TracerProvider (never the global one) with openai instrumented into it."""
    memory = InMemorySpanExporter()
    feature = unique("otel-sdk")
    provider = TracerProvider(
        resource=Resource.create(
            {
                "service.name": "support-bot",
                "service.version": "2.3.1",
                "deployment.environment.name": "staging",
                "vigil.feature": feature,
            }
        )
    )
    provider.add_span_processor(BaggageSpanProcessor(ALLOW_ALL_BAGGAGE_KEYS))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    instrumentor = OpenAIInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    try:
        yield provider, memory
    finally:
        instrumentor.uninstrument()
        provider.shutdown()


def run_answer_flow(
    provider: TracerProvider, fake_openai_url: str, *, customer: str, model: str = "gpt-4o-mini"
) -> None:
    """An app handler span around one instrumented OpenAI chat call.

    The customer label travels as OpenTelemetry baggage; BaggageSpanProcessor copies it
    onto every span started in that context, including the instrumentation's LLM span.
    """
    tracer = provider.get_tracer("tests.app")
    client = openai.OpenAI(api_key="sk-test", base_url=fake_openai_url, max_retries=0)
    token = context.attach(baggage.set_baggage("vigil.customer", customer))
    try:
        with tracer.start_as_current_span("POST /answer") as handler:
            handler.set_attribute("http.route", "/answer")
            try:
                client.chat.completions.create(
                    model=model, messages=[{"role": "user", "content": "What is Vigil?"}]
                )
            except openai.RateLimitError:
                handler.set_status(StatusCode.ERROR, "upstream rate limited")
    finally:
        context.detach(token)


def test_instrumented_openai_call_becomes_a_priced_event(
    live_server_url: str,
    alpha_key: LiveKey,
    fake_openai_url: str,
    instrumented: tuple[TracerProvider, InMemorySpanExporter],
) -> None:
    provider, memory = instrumented
    run_answer_flow(provider, fake_openai_url, customer="acme")
    spans = memory.get_finished_spans()
    llm_span = next(span for span in spans if span.name != "POST /answer")
    handler = next(span for span in spans if span.name == "POST /answer")
    trace_id = format_trace_id(llm_span.context.trace_id)
    span_id = format_span_id(llm_span.context.span_id)

    result = exporter_for(live_server_url, alpha_key).export(spans)
    assert result == SpanExportResult.SUCCESS

    [event] = events_where(alpha_key.tenant, trace_id=trace_id)
    assert event.event_id == f"otel-{trace_id}-{span_id}"
    assert event.feature.startswith("otel-sdk-")  # resource vigil.feature
    assert event.model == "gpt-4o-mini"
    assert event.response_model == "gpt-4o-mini-2024-07-18"
    assert event.provider == "openai"
    assert (event.input_tokens, event.output_tokens) == (120, 30)
    assert event.status == "ok"
    assert event.environment == "staging" and event.release == "2.3.1"
    assert event.parent_span_id == format_span_id(handler.context.span_id)
    assert event.latency_ms is not None and event.latency_ms > 0
    assert event.cost_source == "price_table"
    assert event.cost_usd > Decimal(0)

    [handler_row] = spans_where(alpha_key.tenant, trace_id=trace_id)
    assert (handler_row.name, handler_row.kind, handler_row.service_name) == (
        "POST /answer",
        "internal",
        "support-bot",
    )
    assert handler_row.attributes["http.route"] == "/answer"
    assert event.customer == "acme"  # baggage copied onto the instrumentation's span
    with tenant_context(alpha_key.tenant):
        view = trace_spans(trace_id)
    assert [(item.kind, item.depth) for item in view.items] == [("span", 0), ("llm", 1)]
    assert view.total_cost_usd == event.cost_usd


def test_streaming_call_has_time_to_first_token(
    live_server_url: str,
    alpha_key: LiveKey,
    fake_openai_url: str,
    instrumented: tuple[TracerProvider, InMemorySpanExporter],
) -> None:
    _, memory = instrumented
    client = openai.OpenAI(api_key="sk-test", base_url=fake_openai_url, max_retries=0)
    stream = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "stream please"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "Hello"
    [span] = memory.get_finished_spans()
    assert exporter_for(live_server_url, alpha_key).export([span]) == SpanExportResult.SUCCESS
    [event] = events_where(alpha_key.tenant, trace_id=format_trace_id(span.context.trace_id))
    assert event.time_to_first_token_ms is not None
    assert event.latency_ms is not None
    assert 50 <= event.time_to_first_token_ms < event.latency_ms
    assert (event.input_tokens, event.output_tokens) == (40, 2)


def test_re_export_never_double_counts(
    live_server_url: str,
    alpha_key: LiveKey,
    fake_openai_url: str,
    instrumented: tuple[TracerProvider, InMemorySpanExporter],
) -> None:
    provider, memory = instrumented
    run_answer_flow(provider, fake_openai_url, customer="acme")
    spans: tuple[ReadableSpan, ...] = memory.get_finished_spans()
    trace_id = format_trace_id(spans[0].context.trace_id)
    exporter = exporter_for(live_server_url, alpha_key, compression=Compression.Gzip)
    for _ in range(3):  # as an exporter retrying after timeouts would
        assert exporter.export(spans) == SpanExportResult.SUCCESS
    assert len(events_where(alpha_key.tenant, trace_id=trace_id)) == 1
    assert len(spans_where(alpha_key.tenant, trace_id=trace_id)) == 1


def test_rate_limited_call_is_recorded_as_rate_limited(
    live_server_url: str,
    alpha_key: LiveKey,
    fake_openai_url: str,
    instrumented: tuple[TracerProvider, InMemorySpanExporter],
) -> None:
    provider, memory = instrumented
    run_answer_flow(provider, fake_openai_url, customer="acme", model="overloaded-model")
    spans = memory.get_finished_spans()
    trace_id = format_trace_id(spans[0].context.trace_id)
    assert exporter_for(live_server_url, alpha_key).export(spans) == SpanExportResult.SUCCESS
    [event] = events_where(alpha_key.tenant, trace_id=trace_id)
    assert event.status == "rate_limited"
    assert event.model == "overloaded-model"
    assert event.cost_source == "unpriced"


def test_batch_span_processor_end_to_end(
    live_server_url: str, alpha_key: LiveKey, fake_openai_url: str
) -> None:
    """The way applications deploy it: BatchSpanProcessor + OTLP exporter, flushed."""
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    feature = unique("otel-batch")
    provider = TracerProvider(resource=Resource.create({"service.name": feature}))
    provider.add_span_processor(BaggageSpanProcessor(ALLOW_ALL_BAGGAGE_KEYS))
    provider.add_span_processor(BatchSpanProcessor(exporter_for(live_server_url, alpha_key)))
    instrumentor = OpenAIInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    try:
        for _ in range(3):
            run_answer_flow(provider, fake_openai_url, customer="globex")
        assert provider.force_flush(10_000)
    finally:
        instrumentor.uninstrument()
        provider.shutdown()
    events = events_where(alpha_key.tenant, feature=feature)
    assert len(events) == 3
    assert len({event.trace_id for event in events}) == 3
    assert {event.customer for event in events} == {"globex"}


def test_beta_key_never_lands_data_in_alpha(
    live_server_url: str,
    alpha_key: LiveKey,
    beta_key: LiveKey,
    fake_openai_url: str,
    instrumented: tuple[TracerProvider, InMemorySpanExporter],
) -> None:
    provider, memory = instrumented
    run_answer_flow(provider, fake_openai_url, customer="acme")
    spans = memory.get_finished_spans()
    trace_id = format_trace_id(spans[0].context.trace_id)
    assert exporter_for(live_server_url, beta_key).export(spans) == SpanExportResult.SUCCESS
    assert len(events_where(beta_key.tenant, trace_id=trace_id)) == 1
    assert events_where(alpha_key.tenant, trace_id=trace_id) == []
    assert spans_where(alpha_key.tenant, trace_id=trace_id) == []
