"""The official Langfuse SDK pointed at Vigil (host + key pair changed, nothing else)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator

import pytest
from django_tenants.utils import tenant_context
from langfuse import Langfuse, propagate_attributes
from opentelemetry.sdk.trace import TracerProvider

from metrics.otel.selectors import trace_spans

from .conftest import LiveKey, events_where, spans_where, unique

pytestmark = pytest.mark.usefixtures("committed_db")


@pytest.fixture
def langfuse_for(live_server_url: str) -> Iterator[Callable[..., Langfuse]]:
    clients: list[Langfuse] = []

    def make(*, public_key: str, secret_key: str, **kwargs: object) -> Langfuse:
        client = Langfuse(
            public_key=public_key,
            secret_key=secret_key,
            host=live_server_url,
            tracer_provider=TracerProvider(),  # never touch the global provider in tests
            flush_at=50,
            flush_interval=0.2,
            **kwargs,  # type: ignore[arg-type]
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.shutdown()


def test_generation_and_spans_land_as_event_and_context(
    alpha_key: LiveKey, langfuse_for: Callable[..., Langfuse]
) -> None:
    langfuse = langfuse_for(public_key=alpha_key.prefix, secret_key=alpha_key.raw, release="r-42")
    assert langfuse.auth_check() is True
    feature = unique("lf-answer")
    with (
        langfuse.start_as_current_observation(as_type="span", name="handle-question") as root,
        propagate_attributes(trace_name=feature, user_id="user-7", session_id="sess-3"),
    ):
        with langfuse.start_as_current_observation(as_type="retriever", name="search-docs"):
            pass
        with langfuse.start_as_current_observation(
            as_type="generation",
            name="answer",
            model="gpt-4o",
            input=[{"role": "user", "content": "hello"}],
            metadata={"customer": "globex", "content_category": "billing"},
        ) as generation:
            generation.update(
                output="hi there",
                usage_details={"input": 200, "output": 50, "input_cache_read": 20},
            )
        trace_id = root.trace_id
    langfuse.flush()

    [event] = events_where(alpha_key.tenant, trace_id=trace_id)
    assert event.feature == feature  # from langfuse.trace.name
    assert event.model == "gpt-4o"
    assert (event.input_tokens, event.output_tokens, event.cached_input_tokens) == (200, 50, 20)
    assert (event.customer, event.content_category) == ("globex", "billing")
    assert (event.user_id, event.session_id, event.release) == ("user-7", "sess-3", "r-42")
    assert event.status == "ok"
    assert event.cost_source == "price_table" and event.cost_usd > 0
    names = sorted(span.name for span in spans_where(alpha_key.tenant, trace_id=trace_id))
    assert names == ["handle-question", "search-docs"]
    with tenant_context(alpha_key.tenant):
        view = trace_spans(trace_id)
    assert [(item.name, item.depth) for item in view.items] == [
        ("handle-question", 0),
        ("search-docs", 1),
        ("answer", 1),
    ]


def test_error_generation_is_an_error_event(
    alpha_key: LiveKey, langfuse_for: Callable[..., Langfuse]
) -> None:
    langfuse = langfuse_for(public_key=alpha_key.prefix, secret_key=alpha_key.raw)
    feature = unique("lf-error")
    with (
        propagate_attributes(trace_name=feature),
        langfuse.start_as_current_observation(
            as_type="generation", name="answer", model="claude-3-5-sonnet"
        ) as generation,
    ):
        generation.update(level="ERROR", status_message="Request timed out after 30s")
    langfuse.flush()
    [event] = events_where(alpha_key.tenant, feature=feature)
    assert event.status == "timeout"
    assert event.provider == ""


def test_health_endpoint_through_the_sdk(
    alpha_key: LiveKey, langfuse_for: Callable[..., Langfuse]
) -> None:
    langfuse = langfuse_for(public_key=alpha_key.prefix, secret_key=alpha_key.raw)
    health = langfuse.api.health.health()
    assert health.status == "OK"


def test_wrong_public_key_is_refused_and_nothing_lands(
    alpha_key: LiveKey,
    langfuse_for: Callable[..., Langfuse],
    caplog: pytest.LogCaptureFixture,
) -> None:
    langfuse = langfuse_for(public_key="pk-lf-something-else", secret_key=alpha_key.raw)
    with pytest.raises(Exception, match=r"401|LANGFUSE_PUBLIC_KEY"):
        langfuse.auth_check()
    feature = unique("lf-refused")
    with (
        caplog.at_level(logging.ERROR),
        propagate_attributes(trace_name=feature),
        langfuse.start_as_current_observation(as_type="generation", name="a", model="gpt-4o"),
    ):
        pass
    langfuse.flush()
    assert events_where(alpha_key.tenant, feature=feature) == []


def test_beta_key_pair_lands_in_beta_only(
    alpha_key: LiveKey, beta_key: LiveKey, langfuse_for: Callable[..., Langfuse]
) -> None:
    langfuse = langfuse_for(public_key=beta_key.prefix, secret_key=beta_key.raw)
    feature = unique("lf-beta")
    with (
        propagate_attributes(trace_name=feature),
        langfuse.start_as_current_observation(as_type="generation", name="a", model="gpt-4o"),
    ):
        pass
    langfuse.flush()
    assert len(events_where(beta_key.tenant, feature=feature)) == 1
    assert events_where(alpha_key.tenant, feature=feature) == []


def test_scores_attach_to_their_generation_whatever_the_order(
    alpha_key: LiveKey, langfuse_for: Callable[..., Langfuse]
) -> None:
    langfuse = langfuse_for(public_key=alpha_key.prefix, secret_key=alpha_key.raw)
    feature = unique("lf-scores")
    with (
        propagate_attributes(trace_name=feature),
        langfuse.start_as_current_observation(as_type="span", name="root") as root,
    ):
        with langfuse.start_as_current_observation(
            as_type="generation", name="first", model="gpt-4o"
        ) as first:
            # Scored before the span is even exported: kept until the event exists.
            langfuse.create_score(
                name="helpfulness", value=0.75, trace_id=first.trace_id, observation_id=first.id
            )
            langfuse.flush()
        with langfuse.start_as_current_observation(
            as_type="generation", name="last", model="gpt-4o"
        ):
            pass
    langfuse.flush()
    # After the events exist: attached at once. A trace-level score rates the last call.
    langfuse.create_score(
        name="user_feedback", value=True, trace_id=root.trace_id, data_type="BOOLEAN"
    )
    langfuse.create_score(
        name="tone", value="friendly", trace_id=root.trace_id, data_type="CATEGORICAL"
    )
    langfuse.flush()

    events = {
        event.attributes["otel.span_name"]: event
        for event in events_where(alpha_key.tenant, trace_id=root.trace_id)
    }
    assert events["first"].scores == [{"name": "helpfulness", "value": 0.75, "source": "langfuse"}]
    assert events["last"].scores == [{"name": "user_feedback", "value": 1.0, "source": "langfuse"}]


def test_env_configured_langfuse_openai_wrapper_in_a_fresh_process(
    live_server_url: str, alpha_key: LiveKey, fake_openai_url: str
) -> None:
    """What a user does: set LANGFUSE_HOST/PUBLIC/SECRET and use `langfuse.openai`."""
    feature = unique("lf-wrapper")
    script = textwrap.dedent(
        f"""
        from langfuse import get_client, propagate_attributes
        from langfuse.openai import OpenAI

        client = OpenAI(api_key="sk-test", base_url={fake_openai_url!r}, max_retries=0)
        with propagate_attributes(trace_name={feature!r}, user_id="u-env"):
            client.chat.completions.create(
                model="gpt-4o-mini", messages=[{{"role": "user", "content": "hi"}}]
            )
        get_client().flush()
        """
    )
    env = {
        **os.environ,
        "LANGFUSE_HOST": live_server_url,
        "LANGFUSE_PUBLIC_KEY": alpha_key.prefix,
        "LANGFUSE_SECRET_KEY": alpha_key.raw,
    }
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    [event] = events_where(alpha_key.tenant, feature=feature)
    assert event.model.startswith("gpt-4o-mini")
    assert (event.input_tokens, event.output_tokens) == (120, 30)
    assert event.user_id == "u-env"
    assert event.cost_source == "price_table" and event.cost_usd > 0
