"""manage.py reprice --tenant SLUG [--since DATE] [--all]: price stored events again."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import Http404

from core.request_context import acting_as
from metrics.ingest.schema import parse_time
from metrics.pricing.services import events_reprice
from tenants.selectors import tenant_get_by_slug


class Command(BaseCommand):
    help = (
        "Re-price a tenant's unpriced events (after a price or override was added), or with "
        "--all every event Vigil priced. Client-supplied costs are kept. Changed hours are "
        "marked dirty so rollups and daily usage follow."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="tenant slug")
        parser.add_argument("--since", help="only events at or after this date (ISO 8601, UTC)")
        parser.add_argument(
            "--all", action="store_true", help="also re-price events that already have a price"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            tenant = tenant_get_by_slug(slug=options["tenant"])
        except Http404 as exc:
            raise CommandError(f"No tenant '{options['tenant']}'.") from exc
        since: datetime | None = None
        if options["since"]:
            since = parse_time(options["since"])
            if since is None:
                raise CommandError(f"--since: '{options['since']}' is not an ISO 8601 date.")
            since = since.astimezone(UTC)
        with acting_as("manage.py reprice"):
            result = events_reprice(tenant=tenant, since=since, all_events=options["all"])
        self.stdout.write(
            f"{tenant.schema_name}: examined {result.examined} events, re-priced "
            f"{result.changed}, still unpriced {result.still_unpriced}, "
            f"{result.hours_marked} hours marked for rollup ({result.seconds:.1f}s)."
        )
