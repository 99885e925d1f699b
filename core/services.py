"""Helpers shared by every app's services."""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import models

ModelT = TypeVar("ModelT", bound=models.Model)


def model_update(
    *, instance: ModelT, fields: list[str], data: dict[str, Any]
) -> tuple[ModelT, dict[str, Any], dict[str, Any]]:
    """Set the allowed fields present in `data`, save only those, and return before/after.

    The before/after pair is what the audit log records.
    """
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for field in fields:
        if field not in data:
            continue
        old = getattr(instance, field)
        new = data[field]
        if old != new:
            before[field] = old
            after[field] = new
            setattr(instance, field, new)
    if after:
        instance.full_clean(exclude=[f.name for f in instance._meta.fields if f.name not in after])
        instance.save(update_fields=list(after))
    return instance, before, after
