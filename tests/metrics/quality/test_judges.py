"""Both judge clients grade sampled events end to end against a local fake server."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from compliance.models import AuditEntry
from metrics.models import Event
from metrics.pricing.services import price_override_create
from metrics.quality.grading import grades_enqueue, grades_run_pending
from metrics.quality.judge_config import api_key_decrypt, judge_config_get, judge_config_set
from metrics.quality.models import JUDGE_FEATURE, Grade, GradeStatus, JudgeConfig

from .conftest import FakeJudge, sampled_event


def _configure(tenant_slug: str, kind: str, base_url: str, **extra: str) -> JudgeConfig:
    return judge_config_set(
        tenant_slug=tenant_slug,
        data={
            "kind": kind,
            "base_url": base_url,
            "model": extra.get("model", "gpt-4o-mini" if kind == "openai" else "claude-haiku-4-5"),
            "api_key": "sk-test-secret-1234",
            "monthly_cap_usd": extra.get("monthly_cap_usd", "10"),
            "requests_per_minute": extra.get("requests_per_minute", "600"),
            "input_price_per_mtok": extra.get("input_price_per_mtok", ""),
            "output_price_per_mtok": extra.get("output_price_per_mtok", ""),
        },
    )


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
def test_judge_grades_sampled_event_end_to_end(in_alpha, fake_judge: FakeJudge, kind: str) -> None:
    base = fake_judge.base_url if kind == "openai" else fake_judge.anthropic_base_url
    _configure(in_alpha.schema_name, kind, base)
    event = sampled_event(
        retrieval=[{"id": "c1", "text": "Paris is the capital and largest city of France."}]
    )
    created = grades_enqueue()
    assert created == 3  # answer relevance, faithfulness, context relevance
    result = grades_run_pending(tenant_slug=in_alpha.schema_name)
    assert (result.done, result.failed) == (3, 0)

    grades = list(Grade.objects.filter(event=event).order_by("rubric_name"))
    assert {g.rubric_name for g in grades} == {
        "answer_relevance",
        "context_relevance",
        "faithfulness",
    }
    for g in grades:
        assert g.status == GradeStatus.DONE
        assert g.score == pytest.approx(0.9)
        assert g.rubric is not None and g.label == g.rubric.labels[0]
        assert g.rationale == "Answers the question directly."
        assert g.judge_kind == kind
        assert g.judge_name.startswith(f"{kind}:")
        assert g.rubric_version == 1
        assert g.attempts == 1
        assert g.judge_input_tokens > 0

    # The request went through the official client with the key and the structured schema.
    paths = {r["path"] for r in fake_judge.requests}
    assert paths == ({"/v1/chat/completions"} if kind == "openai" else {"/v1/messages"})
    first = fake_judge.requests[0]
    if kind == "openai":
        assert first["headers"]["authorization"] == "Bearer sk-test-secret-1234"
        assert first["body"]["response_format"]["json_schema"]["strict"] is True
    else:
        sent = first["headers"].get("x-api-key") or first["headers"].get("authorization", "")
        assert sent.endswith("sk-test-secret-1234")
        assert first["body"]["tool_choice"] == {"type": "tool", "name": "record_grade"}
    assert "Paris is the capital" in str(first["body"])

    # The judge's own tokens are Vigil cost under the vigil-judge feature, priced from the table.
    usage = Event.objects.filter(feature=JUDGE_FEATURE)
    assert usage.count() == 3
    assert all(u.cost_usd > 0 and u.cost_source == "price_table" for u in usage)
    total = sum((g.judge_cost_usd for g in grades), Decimal(0))
    assert total == sum((u.cost_usd for u in usage), Decimal(0))
    assert (
        AuditEntry.objects.filter(
            chain="alpha", action="quality.grade_done", object_id__in=[str(g.pk) for g in grades]
        ).count()
        == 3
    )


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
def test_malformed_output_is_retried_then_failed(
    in_alpha, fake_judge: FakeJudge, kind: str
) -> None:
    base = fake_judge.base_url if kind == "openai" else fake_judge.anthropic_base_url
    _configure(in_alpha.schema_name, kind, base)
    fake_judge.default = "Sure! The answer looks great to me."  # prose, not JSON
    sampled_event()
    assert grades_enqueue() == 1
    result = grades_run_pending(tenant_slug=in_alpha.schema_name)
    assert (result.done, result.failed) == (0, 1)
    grade = Grade.objects.get()
    assert grade.status == GradeStatus.FAILED
    assert grade.attempts == 3
    assert grade.error.startswith("malformed judge output")
    assert grade.score is None
    assert len(fake_judge.requests) == 3
    # Failed calls still cost tokens, and they are recorded.
    assert grade.judge_input_tokens > 0
    assert Event.objects.filter(feature=JUDGE_FEATURE).count() == 1


@pytest.mark.parametrize(
    "bad",
    [
        {"score": 1.5, "label": "relevant", "rationale": "x"},
        {"score": 0.5, "label": "splendid", "rationale": "x"},
        {"score": 0.5, "label": "relevant", "rationale": "x", "extra": 1},
        {"score": "0.5", "label": "relevant", "rationale": "x"},
        ["not", "an", "object"],
    ],
)
def test_strict_parsing_recovers_on_a_later_attempt(in_alpha, fake_judge: FakeJudge, bad) -> None:
    _configure(in_alpha.schema_name, "openai", fake_judge.base_url)
    fake_judge.queue = [bad, "good"]
    sampled_event()
    grades_enqueue()
    result = grades_run_pending(tenant_slug=in_alpha.schema_name)
    assert result.done == 1
    grade = Grade.objects.get()
    assert grade.attempts == 2 and grade.status == GradeStatus.DONE


def test_unreachable_judge_fails_cleanly(in_alpha, fake_judge: FakeJudge) -> None:
    _configure(in_alpha.schema_name, "openai", fake_judge.base_url)
    fake_judge.default = "http500"
    sampled_event()
    grades_enqueue()
    grades_run_pending(tenant_slug=in_alpha.schema_name)
    grade = Grade.objects.get()
    assert grade.status == GradeStatus.FAILED
    assert "judge unavailable" in grade.error


def test_monthly_spend_cap_skips_llm_grades(in_alpha, fake_judge: FakeJudge) -> None:
    _configure(in_alpha.schema_name, "openai", fake_judge.base_url, monthly_cap_usd="0")
    sampled_event()
    grades_enqueue()
    result = grades_run_pending(tenant_slug=in_alpha.schema_name)
    assert result.capped and result.done == 0
    grade = Grade.objects.get()
    assert grade.status == GradeStatus.SKIPPED
    assert "spend cap" in grade.error
    assert fake_judge.requests == []


def test_token_bucket_limits_calls_per_tenant(in_alpha, fake_judge: FakeJudge) -> None:
    _configure(in_alpha.schema_name, "openai", fake_judge.base_url, requests_per_minute="2")
    for _ in range(4):
        sampled_event()
    assert grades_enqueue() == 4
    result = grades_run_pending(tenant_slug=in_alpha.schema_name)
    assert result.done == 2 and result.throttled
    assert Grade.objects.filter(status=GradeStatus.PENDING).count() == 2


def test_api_key_is_encrypted_and_never_shown(in_alpha, fake_judge: FakeJudge) -> None:
    _configure(in_alpha.schema_name, "openai", fake_judge.base_url)
    config = judge_config_get()
    assert "sk-test-secret-1234" not in config.api_key_encrypted
    assert api_key_decrypt(config.api_key_encrypted) == "sk-test-secret-1234"
    # Saving again without a key keeps the stored one; the audit entry hides it.
    judge_config_set(
        tenant_slug=in_alpha.schema_name,
        data={"kind": "openai", "base_url": fake_judge.base_url, "model": "other-model"},
    )
    assert api_key_decrypt(judge_config_get().api_key_encrypted) == "sk-test-secret-1234"
    entries = AuditEntry.objects.filter(chain="alpha", action="quality.judge_config_set")
    assert all("sk-test" not in str(e.after) for e in entries)


def _judge_usage_after_one_grade(tenant_slug: str, fake_judge: FakeJudge, **extra: str) -> Event:
    _configure(tenant_slug, "openai", fake_judge.base_url, **extra)
    sampled_event()
    assert grades_enqueue() == 1
    assert grades_run_pending(tenant_slug=tenant_slug).done == 1
    return Event.objects.get(feature=JUDGE_FEATURE)


def test_judge_cost_uses_the_tenants_price_override(in_alpha, fake_judge: FakeJudge) -> None:
    """A negotiated judge price wins over Vigil's table, as for ingested events."""
    override = price_override_create(
        tenant=in_alpha,
        model="gpt-4o-mini",
        input_per_m=Decimal("2.00"),
        output_per_m=Decimal("8.00"),
        effective_from=date(2020, 1, 1),
    )
    usage = _judge_usage_after_one_grade(in_alpha.schema_name, fake_judge)
    # The fake answers with 120 prompt and 30 completion tokens.
    assert usage.cost_usd == Decimal("0.00048")  # (120 x 2 + 30 x 8) / 1M
    assert usage.cost_source == "override"
    assert usage.price_version.startswith(f"override-{override.pk}:")
    assert Grade.objects.get().judge_cost_usd == usage.cost_usd


def test_judge_cost_falls_back_to_the_configs_prices(in_alpha, fake_judge: FakeJudge) -> None:
    """A model neither the tenant nor the table prices (self-hosted) uses the config's prices."""
    usage = _judge_usage_after_one_grade(
        in_alpha.schema_name,
        fake_judge,
        model="local-llama-judge",
        input_price_per_mtok="1",
        output_price_per_mtok="4",
    )
    assert usage.cost_usd == Decimal("0.00024")  # (120 x 1 + 30 x 4) / 1M
    assert (usage.cost_source, usage.price_version) == ("override", "judge-config")
