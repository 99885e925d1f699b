from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import Http404

from billing.credits.services import month_before
from billing.forms import parse_month
from billing.statements.services import statement_close
from billing.stripe.adjustments import statement_adjustment_create
from core.exceptions import ApplicationError
from core.request_context import acting_as
from tenants.selectors import tenant_get_by_slug, tenants_active


class Command(BaseCommand):
    help = (
        "Close a month into immutable chargeback statements (default: last month, every "
        "active tenant). Closing an already closed month prints the existing statement."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--month", help="YYYY-MM (default: last month)")
        parser.add_argument("--tenant", help="tenant slug (default: every active tenant)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["month"]:
            month = parse_month(options["month"])
            if month is None:
                raise CommandError("--month is YYYY-MM.")
        else:
            month = month_before(datetime.now(tz=UTC).date())
        if options["tenant"]:
            try:
                tenants = [tenant_get_by_slug(slug=options["tenant"])]
            except Http404 as exc:
                raise CommandError(f"No tenant '{options['tenant']}'.") from exc
        else:
            tenants = list(tenants_active())
        for tenant in tenants:
            try:
                with acting_as("manage.py close_statements"):
                    statement = statement_close(tenant=tenant, month=month)
                    statement_adjustment_create(statement=statement)
            except ApplicationError as exc:
                detail = "; ".join(f"{k}: {v}" for k, v in exc.details.items())
                raise CommandError(f"{exc.message} {detail}".strip()) from exc
            self.stdout.write(
                f"{tenant.schema_name} {month:%Y-%m}: statement {statement.pk}, "
                f"provider cost {statement.provider_cost:.4f}, billed {statement.total_charge} "
                f"{statement.currency} ({statement.requests} requests)"
            )
