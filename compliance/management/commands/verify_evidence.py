"""Verify an evidence bundle offline: signature, file hashes, every chain link."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from compliance.bundle_verify import verify_bundle


class Command(BaseCommand):
    help = "Verify a Vigil evidence bundle (ZIP): signature, file hashes and every chain link."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("bundle", help="path of the evidence ZIP")
        parser.add_argument("--public-key", help="PEM file of the key you trust")

    def handle(self, *args: Any, **options: Any) -> None:
        trusted = Path(options["public_key"]).read_bytes() if options["public_key"] else None
        report = verify_bundle(options["bundle"], trusted)
        for note in report.notes:
            self.stdout.write(f"ok    {note}")
        for problem in report.problems:
            self.stdout.write(self.style.ERROR(f"FAIL  {problem}"))
        if not report.ok:
            raise CommandError(f"NOT VERIFIED: {len(report.problems)} problem(s).")
        self.stdout.write(self.style.SUCCESS("VERIFIED"))
