from __future__ import annotations

from typing import Any

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render


def health(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"error": "Not found.", "details": {}}, status=404)
    return render(request, "errors/not_found.html", status=404)


def handler403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"error": "Permission denied.", "details": {}}, status=403)
    return render(request, "errors/forbidden.html", status=403)


def handler400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"error": "Bad request.", "details": {}}, status=400)
    return render(request, "errors/bad_request.html", status=400)


def handler500(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(
            {"error": "Internal error; it has been logged.", "details": {}}, status=500
        )
    return render(request, "errors/server_error.html", status=500)
