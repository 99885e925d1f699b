"""Cache keys of the alerts app (Redis; django-tenants' key function adds the schema).

The prefix comes from settings so tests can give each test its own namespace.
"""

from __future__ import annotations

from django.conf import settings


def cache_key(*parts: object) -> str:
    prefix = getattr(settings, "VIGIL_ALERTS_CACHE_PREFIX", "alerts")
    return ":".join([prefix, *(str(p) for p in parts)])
