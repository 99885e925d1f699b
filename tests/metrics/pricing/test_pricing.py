"""Price table matching, effective dates, tenant overrides, unpriced events and re-pricing."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django_tenants.utils import tenant_context

from compliance.models import AuditEntry
from core.exceptions import ApplicationError
from metrics.ingest.pipeline import ingest_events
from metrics.models import DirtyHour, Event
from metrics.pricing.lookup import canonical_model, table_price
from metrics.pricing.selectors import unpriced_models_list
from metrics.pricing.services import events_reprice, price_override_create
from tenants.models import Tenant


def event(**fields: object) -> dict[str, object]:
    return {
        "event_id": f"p-{uuid.uuid4().hex}",
        "timestamp": datetime.now(tz=UTC).isoformat(),
        "feature": "chat",
        "input_tokens": 2_000_000,
        "output_tokens": 1_000_000,
        **fields,
    }


def stored(tenant: Tenant, event_id: object) -> Event:
    with tenant_context(tenant):
        return Event.objects.get(event_id=event_id)


@pytest.mark.parametrize(
    ("name", "provider", "key"),
    [
        ("gpt-4o-2024-08-06", "", "gpt-4o"),
        ("openai/GPT-4o-mini", "", "gpt-4o-mini"),
        ("claude-3-5-sonnet-latest", "", "claude-3-5-sonnet"),
        ("claude-3-5-sonnet-20241022", "anthropic", "claude-3-5-sonnet"),
        ("anthropic.claude-3-5-haiku-20241022-v1:0", "aws.bedrock", "claude-3-5-haiku"),
        ("claude-3-5-sonnet@20240620", "", "claude-3-5-sonnet"),
        ("models/gemini-1.5-pro-002", "", "gemini-1.5-pro"),
        ("mistral-large-latest", "", "mistral-large"),
        ("meta-llama/Llama-3.3-70B-Instruct-Turbo", "", "meta-llama/llama-3.3-70b-instruct-turbo"),
        ("llama-3.3-70b-versatile", "groq", "llama-3.3-70b-versatile"),
        (
            "meta-llama/llama-4-scout-17b-16e-instruct",
            "groq",
            "groq:meta-llama/llama-4-scout-17b-16e-instruct",
        ),
        ("command-r-plus-08-2024", "", "command-r-plus"),
        ("deepseek-chat", "", "deepseek-chat"),
        ("gpt-4.5-preview", "", None),  # no prefix fallback to gpt-4
        ("my-finetune", "", None),
    ],
)
def test_model_names_match_the_table(name: str, provider: str, key: str | None) -> None:
    assert canonical_model(name, provider) == key


def test_price_in_effect_on_the_day_is_used() -> None:
    old = table_price("gpt-4o", "", date(2024, 6, 1))
    new = table_price("gpt-4o", "", date(2024, 9, 1))
    assert old is not None and new is not None
    assert (old.input_per_m, new.input_per_m) == (Decimal("5.00"), Decimal("2.50"))
    assert table_price("gpt-4o", "", date(2024, 1, 1)) is None  # before its first price


def test_cached_tokens_are_billed_at_the_cached_rate(tenant: Tenant) -> None:
    raw = event(model="gpt-4o", input_tokens=1_000_000, cached_input_tokens=400_000)
    ingest_events(tenant=tenant, raw_events=[raw])
    # 600k * 2.50 + 400k * 1.25 + 1M * 10.00 per 1M
    assert stored(tenant, raw["event_id"]).cost_usd == Decimal("12.0000000000")


def test_client_cost_wins_and_unknown_model_is_unpriced(tenant: Tenant) -> None:
    client = event(model="gpt-4o", cost_usd=0.25)
    unknown = event(model=f"acme-llm-{uuid.uuid4().hex[:6]}", provider="acme")
    outcomes = ingest_events(tenant=tenant, raw_events=[client, unknown])
    assert [o.status for o in outcomes] == ["accepted", "accepted"]
    stored_client = stored(tenant, client["event_id"])
    assert (stored_client.cost_usd, stored_client.cost_source) == (Decimal("0.25"), "client")
    stored_unknown = stored(tenant, unknown["event_id"])
    assert (stored_unknown.cost_usd, stored_unknown.cost_source) == (Decimal(0), "unpriced")
    with tenant_context(tenant):
        listed = {m.model: m for m in unpriced_models_list()}
    assert listed[str(unknown["model"])].events == 1


def test_override_wins_in_its_period_and_is_audited(tenant: Tenant) -> None:
    today = datetime.now(tz=UTC).date()
    override = price_override_create(
        tenant=tenant,
        model="gpt-4o",
        input_per_m=Decimal("1.00"),
        output_per_m=Decimal("4.00"),
        effective_from=today - timedelta(days=2),
        effective_to=today + timedelta(days=1),
        note="enterprise agreement",
    )
    inside = event(model="gpt-4o-2024-08-06")
    before = event(model="gpt-4o", timestamp=(datetime.now(tz=UTC) - timedelta(days=5)).isoformat())
    ingest_events(tenant=tenant, raw_events=[inside, before])
    priced = stored(tenant, inside["event_id"])
    assert (priced.cost_usd, priced.cost_source) == (Decimal("6.0000000000"), "override")
    assert priced.price_version == f"override-{override.pk}:gpt-4o@{override.effective_from}"
    assert stored(tenant, before["event_id"]).cost_source == "price_table"
    assert AuditEntry.objects.filter(
        chain=tenant.schema_name, action="price_override.create", object_id=str(override.pk)
    ).exists()


def test_override_validation(tenant: Tenant) -> None:
    today = datetime.now(tz=UTC).date()
    with pytest.raises(ApplicationError) as error:
        price_override_create(
            tenant=tenant,
            model="",
            input_per_m=Decimal(-1),
            output_per_m=Decimal(1),
            effective_from=today,
            effective_to=today - timedelta(days=1),
        )
    assert set(error.value.details) == {"model", "input_per_m", "effective_to"}
    price_override_create(
        tenant=tenant,
        model="claude-3-5-sonnet",
        input_per_m=Decimal(2),
        output_per_m=Decimal(10),
        effective_from=today,
    )
    with pytest.raises(ApplicationError) as overlap:
        price_override_create(
            tenant=tenant,
            model="claude-3-5-sonnet-latest",
            input_per_m=Decimal(1),
            output_per_m=Decimal(5),
            effective_from=today + timedelta(days=3),
        )
    assert "overlaps" in overlap.value.details["effective_from"]


def test_reprice_after_adding_an_override(tenant: Tenant) -> None:
    model = f"acme-llm-{uuid.uuid4().hex[:6]}"
    raw = event(model=model)
    ingest_events(tenant=tenant, raw_events=[raw])
    with tenant_context(tenant):
        DirtyHour.objects.all().delete()
    price_override_create(
        tenant=tenant,
        model=model,
        input_per_m=Decimal("0.5"),
        output_per_m=Decimal("1.5"),
        effective_from=datetime.now(tz=UTC).date() - timedelta(days=1),
    )
    result = events_reprice(tenant=tenant)
    assert result.changed >= 1
    repriced = stored(tenant, raw["event_id"])
    assert (repriced.cost_usd, repriced.cost_source) == (Decimal("2.5000000000"), "override")
    with tenant_context(tenant):
        assert DirtyHour.objects.filter(
            hour=repriced.timestamp.replace(minute=0, second=0, microsecond=0)
        ).exists()
        assert model not in {m.model for m in unpriced_models_list()}
    assert AuditEntry.objects.filter(chain=tenant.schema_name, action="events.reprice").exists()


def test_reprice_command_keeps_client_costs(tenant: Tenant) -> None:
    client = event(model="gpt-4o", cost_usd="0.1")
    ingest_events(tenant=tenant, raw_events=[client])
    call_command("reprice", "--tenant", tenant.schema_name, "--all", "--since", "2020-01-01")
    assert stored(tenant, client["event_id"]).cost_usd == Decimal("0.1")


def test_reprice_command_unknown_tenant(db: None) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("reprice", "--tenant", "nope")


def test_bounded_reprice_and_the_background_task_finish_the_rest(tenant: Tenant) -> None:
    from core.celery import app
    from metrics.pricing.tasks import reprice

    model = f"acme-llm-{uuid.uuid4().hex[:6]}"
    raws = [event(model=model) for _ in range(5)]
    ingest_events(tenant=tenant, raw_events=raws)
    price_override_create(
        tenant=tenant,
        model=model,
        input_per_m=Decimal(1),
        output_per_m=Decimal(1),
        effective_from=datetime.now(tz=UTC).date() - timedelta(days=1),
    )
    with tenant_context(tenant):
        already = Event.objects.filter(cost_source="unpriced").exclude(model=model).count()
    first = events_reprice(tenant=tenant, max_events=already + 2)
    assert not first.complete
    app.conf.task_always_eager = True
    try:
        with tenant_context(tenant):
            reprice.delay()
    finally:
        app.conf.task_always_eager = False
    with tenant_context(tenant):
        sources = set(Event.objects.filter(model=model).values_list("cost_source", flat=True))
    assert sources == {"override"}
