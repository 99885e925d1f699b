"""OpenTelemetry (OTLP/HTTP) and Langfuse-SDK ingestion: spans in, events and trace context out.

- `decode`: an OTLP/HTTP body (protobuf or JSON, maybe gzip) -> plain span dicts.
- `mapping`: one span dict -> an event dict (LLM call) or a trace-span dict (context).
- `services`: writes (events through the ingest pipeline, spans into TraceSpan).
- `selectors`: `trace_spans(trace_id)` for waterfalls.
- `api`: the HTTP endpoints, including the Langfuse-compatible ones.
"""
