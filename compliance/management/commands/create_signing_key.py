"""Write the Ed25519 key that signs audit checkpoints and evidence bundles."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from compliance.signing import generate_signing_key, signing_key_load
from core.exceptions import ApplicationError


class Command(BaseCommand):
    help = "Create the Ed25519 signing key (default: settings.VIGIL_SIGNING_KEY_PATH)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--path", help="where to write it (default: the configured path)")
        parser.add_argument("--force", action="store_true", help="replace an existing key")
        parser.add_argument(
            "--if-missing", action="store_true", help="do nothing (exit 0) when a key exists"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"] or settings.VIGIL_SIGNING_KEY_PATH)
        if path.exists() and options["if_missing"] and not options["force"]:
            if not options["path"]:
                key = signing_key_load()
                self.stdout.write(f"Signing key exists at {path} (key id {key.key_id}).")
            else:
                self.stdout.write(f"Signing key exists at {path}.")
            return
        try:
            key_id = generate_signing_key(path=path, overwrite=options["force"])
        except ApplicationError as exc:
            raise CommandError(f"{exc.message} {exc.details.get('path', '')}") from exc
        self.stdout.write(self.style.SUCCESS(f"Wrote {path} (key id {key_id}, mode 0600)."))
        self.stdout.write(
            "Publish the public key's id to your auditors; back up the private key offline."
        )
