from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from billing.credits.services import month_before
from billing.ratecards.models import RateCard
from billing.ratecards.services import rate_card_create
from billing.statements.services import statement_close
from core.request_context import acting_as
from tenants.models import Tenant

# Demo rate cards: Acme pays cost plus a markup with an allowance and a minimum;
# Globex pays list prices per 1M tokens (what the demo models cost, plus a margin).
DEMO_CARDS: dict[str, dict[str, Any]] = {
    "acme": {
        "mode": "pass_through",
        "markup_percent": "25",
        "included_usd": "20",
        "minimum_usd": "100",
        "note": "Demo: cost + 25%, $20 included, $100 minimum",
    },
    "globex": {
        "mode": "per_token",
        "prices": {
            "gpt-4o": {"input": "3.00", "output": "12.00"},
            "gpt-4o-mini": {"input": "0.20", "output": "0.80"},
            "claude-3-5-sonnet": {"input": "3.60", "output": "18.00"},
            "*": {"input": "0.50", "output": "1.50"},
        },
        "note": "Demo: per 1M tokens",
    },
}


class Command(BaseCommand):
    help = (
        "Give the demo tenants (acme, globex) a rate card and close last month into a "
        "statement. Idempotent: existing cards and statements are kept."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenants", default=",".join(DEMO_CARDS))

    def handle(self, *args: Any, **options: Any) -> None:
        last_month = month_before(datetime.now(tz=UTC).date())
        for slug in options["tenants"].split(","):
            tenant = Tenant.objects.filter(schema_name=slug).first()
            if tenant is None:
                self.stdout.write(f"{slug}: skipped (no such tenant)")
                continue
            card = DEMO_CARDS.get(slug, DEMO_CARDS["acme"])  # other tenants get Acme's card
            with acting_as("manage.py seed_billing_demo"):
                if not RateCard.objects.filter(tenant=tenant).exists():
                    rate_card_create(tenant=tenant, effective_from=date(2000, 1, 1), **card)
                statement = statement_close(tenant=tenant, month=last_month)
            self.stdout.write(
                f"{slug}: rate card in place; {last_month:%Y-%m} statement billed "
                f"{statement.total_charge} {statement.currency}"
            )
