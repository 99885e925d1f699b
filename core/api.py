"""Map every API failure to one JSON shape: {"error": ..., "details": {...}}."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.exceptions import ApplicationError


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ApplicationError):
        return Response({"error": exc.message, "details": exc.details}, status=exc.status_code)
    if isinstance(exc, Http404):
        return Response({"error": "Not found.", "details": {}}, status=404)
    if isinstance(exc, PermissionDenied):
        return Response({"error": "Permission denied.", "details": {}}, status=403)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, drf_exceptions.ValidationError):
        response.data = {"error": "Invalid input.", "details": response.data}
    elif isinstance(response.data, dict) and "detail" in response.data:
        response.data = {"error": str(response.data["detail"]), "details": {}}
    return response
