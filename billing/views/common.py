"""Helpers shared by the tenant and ops billing pages."""

from __future__ import annotations

from django.http import FileResponse, HttpResponseBase, StreamingHttpResponse

from billing.exports.services import ExportFile


def export_response(export: ExportFile) -> HttpResponseBase:
    """Stream an export: CSV/JSON chunk by chunk, XLSX from its temporary file."""
    response: HttpResponseBase
    if export.handle is not None:
        response = FileResponse(
            export.handle,
            as_attachment=True,
            filename=export.filename,
            content_type=export.content_type,
        )
    else:
        chunks = export.chunks or iter(())
        response = StreamingHttpResponse(chunks, content_type=export.content_type)
        response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
