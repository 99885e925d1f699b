"""manage.py rebuild_rollups --tenant SLUG --from DATE --to DATE"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_tenants.utils import tenant_context

from metrics.rollups.services import rollups_rebuild_range
from tenants.models import Tenant


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"Not a date (YYYY-MM-DD): {value!r}") from exc


class Command(BaseCommand):
    help = "Rebuild a tenant's hourly rollups and daily usage from its raw events for a day range."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="tenant slug")
        parser.add_argument("--from", dest="start", required=True, help="first day, YYYY-MM-DD")
        parser.add_argument("--to", dest="end", required=True, help="last day (inclusive)")

    def handle(self, *args: Any, **options: Any) -> None:
        first, last = _day(options["start"]), _day(options["end"])
        if last < first:
            raise CommandError("--to is before --from.")
        tenant = Tenant.objects.filter(schema_name=options["tenant"]).first()
        if tenant is None or tenant.schema_name == "public":
            raise CommandError(f"No tenant {options['tenant']!r}.")
        start = datetime(first.year, first.month, first.day, tzinfo=UTC)
        end = datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)

        def progress(done: int, total: int, hour: datetime) -> None:
            if done == total or done % 24 == 0:
                self.stdout.write(f"  {done}/{total} hours (up to {hour:%Y-%m-%d %H}:00)")

        self.stdout.write(f"Rebuilding {tenant.schema_name} from {first} to {last} ...")
        with tenant_context(tenant):
            result = rollups_rebuild_range(start=start, end=end, progress=progress)
        self.stdout.write(
            self.style.SUCCESS(
                f"Rebuilt {result.hours} hours ({result.rows} rollup rows) "
                f"in {result.seconds:.1f}s."
            )
        )
