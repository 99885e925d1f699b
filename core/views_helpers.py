"""Page-rendering helpers shared by every app's views."""

from __future__ import annotations

from typing import Any

from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.exceptions import ApplicationError


def render_page(
    request: HttpRequest, template: str, partial: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    """A full page, or for htmx requests only its partial: the page includes the partial,
    so the two never drift apart."""
    # Form errors are shown in place and answered 200, since htmx swaps only 2xx answers.
    chosen = partial if getattr(request, "htmx", False) else template
    return render(request, chosen, context, status=status)


def form_field_errors(form: Form) -> dict[str, str]:
    """A bound, invalid form's errors as {field: message}, the shape templates show in place."""
    return {
        field: " ".join(str(error) for error in errors) for field, errors in form.errors.items()
    }


def form_errors_from(exc: ApplicationError) -> dict[str, str]:
    if exc.details:
        return {str(key): str(value) for key, value in exc.details.items()}
    return {"form": exc.message}
