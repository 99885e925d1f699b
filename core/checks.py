"""Deployment checks of our own, run by `manage.py check --deploy`."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def secret_key_is_not_the_development_default(**kwargs: Any) -> list[Warning]:
    if settings.SECRET_KEY == settings.DEVELOPMENT_SECRET_KEY:
        return [
            Warning(
                "SECRET_KEY is the development default.",
                hint="Set the SECRET_KEY environment variable to a long random value.",
                id="vigil.W001",
            )
        ]
    return []
