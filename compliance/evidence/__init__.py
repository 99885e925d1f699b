"""Evidence bundles: request (service), build (Celery task body), file location.

The bundle is a ZIP an auditor can check with nothing but Python and
`cryptography` (compliance/bundle_verify.py, shipped inside as verify_bundle.py;
layout in docs/compliance.md).
"""

from compliance.evidence.build import evidence_export_build
from compliance.evidence.requests import (
    evidence_export_record_download,
    evidence_export_request,
    export_file_path,
    exports_dir,
)

__all__ = [
    "evidence_export_build",
    "evidence_export_record_download",
    "evidence_export_request",
    "export_file_path",
    "exports_dir",
]
