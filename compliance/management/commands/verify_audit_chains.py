"""Run the chain verification now (the daily job does the same)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from compliance.chain import chain_verify, chains_verify_all


class Command(BaseCommand):
    help = "Re-hash every audit chain link and check the signed checkpoints."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--chain", help="only this chain (tenant slug, or 'public')")

    def handle(self, *args: Any, **options: Any) -> None:
        results = (
            [chain_verify(chain=options["chain"])] if options["chain"] else chains_verify_all()
        )
        broken = 0
        for result in results:
            line = (
                f"{result.chain}: {result.status}, {result.entries_checked} entries, "
                f"{result.checkpoints_checked} checkpoints"
            )
            if result.status == "ok":
                self.stdout.write(line)
                continue
            broken += 1
            self.stdout.write(self.style.ERROR(line))
            for problem in result.problems:
                self.stdout.write(f"  - {problem}")
        if broken:
            raise CommandError(f"{broken} chain(s) broken.")
