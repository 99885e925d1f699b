"""manage.py seed_demo_traffic [--tenant SLUG ...] [--days 30] [--events-per-day 1500]

Fills demo tenants with realistic traffic (metrics/demo_scenario.py) and builds
their rollups; `seed_demo` calls it. Idempotent: days already seeded are skipped.
With --bulk N it instead COPYs about N events for benchmarks (no rollups).
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from metrics.demo_traffic import generate_bulk_traffic, seed_tenant_traffic
from tenants.models import Tenant


class Command(BaseCommand):
    help = "Seed demo LLM traffic (30 days, with the field guide's incidents) into tenants."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", action="append", dest="tenants", help="tenant slug")
        parser.add_argument("--days", type=int, default=30)
        parser.add_argument("--events-per-day", type=int, default=1500)
        parser.add_argument("--bulk", type=int, default=0, help="COPY about N events instead")

    def handle(self, *args: Any, **options: Any) -> None:
        slugs = options["tenants"] or ["acme", "globex"]
        days, per_day = options["days"], options["events_per_day"]
        if not 1 <= days <= 400 or per_day < 1:
            raise CommandError("--days must be 1..400 and --events-per-day positive.")
        for slug in slugs:
            tenant = Tenant.objects.filter(schema_name=slug).exclude(schema_name="public").first()
            if tenant is None:
                raise CommandError(f"No tenant {slug!r}.")
            began = time.monotonic()
            if options["bulk"]:
                self.stdout.write(f"COPYing ~{options['bulk']:,} events into {slug} ...")
                count = generate_bulk_traffic(
                    tenant, events=options["bulk"], days=days, progress=self.stdout.write
                )
            else:
                self.stdout.write(f"Seeding {days} days of demo traffic into {slug} ...")
                count = seed_tenant_traffic(
                    tenant, days=days, events_per_day=per_day, progress=self.stdout.write
                )
            self.stdout.write(
                self.style.SUCCESS(
                    f"{slug}: {count:,} new events in {time.monotonic() - began:.1f}s."
                )
            )
