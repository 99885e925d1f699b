"""The one error type for domain failures.

Services raise ApplicationError; the DRF exception handler turns it into a
JSON answer and page views show its message inline next to the form.
"""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    """A failure the user can act on: a message and, optionally, per-field details."""

    status_code = 400

    def __init__(
        self, message: str, *, details: dict[str, Any] | None = None, status_code: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}
        if status_code is not None:
            self.status_code = status_code


class NotFoundError(ApplicationError):
    status_code = 404


class PermissionDeniedError(ApplicationError):
    status_code = 403
