"""Streaming ZIP members with SHA-256, size and per-line hashes (for the signed index).

Memory stays bounded however large the export: rows stream into the ZIP, and
the CSV copy and the per-line hash indexes go through spooled temporary files
(in memory while small, on disk beyond a few MB).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import tempfile
import zipfile
from dataclasses import dataclass, field
from typing import IO, Any

from compliance import bundle_verify

SPOOL_BYTES = 8 * 1024 * 1024
CHUNK = 1024 * 1024


def _spool() -> IO[bytes]:
    return tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)


class ZipMember:
    """One file streamed into the ZIP: SHA-256, size, and the SHA-256 of every line
    written to `index` (one hex digest per line) as it goes."""

    def __init__(self, bundle: zipfile.ZipFile, name: str, index: IO[bytes] | None = None) -> None:
        self.name = name
        self.handle = bundle.open(name, "w", force_zip64=True)
        self.sha = hashlib.sha256()
        self.size = 0
        self.lines = 0
        self.index = index
        self._partial = b""

    def _line(self, line: bytes) -> None:
        self.lines += 1
        if self.index is not None:
            self.index.write(hashlib.sha256(line).hexdigest().encode() + b"\n")

    def write(self, data: bytes) -> None:
        self.handle.write(data)
        self.sha.update(data)
        self.size += len(data)
        pieces = (self._partial + data).split(b"\n")
        self._partial = pieces.pop()
        for piece in pieces:
            self._line(piece)

    def close(self) -> dict[str, Any]:
        if self._partial:
            self._line(self._partial)
        self.handle.close()
        return {"sha256": self.sha.hexdigest(), "bytes": self.size, "lines": self.lines}


@dataclass
class BundleWriter:
    zip: zipfile.ZipFile
    files: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, name: str, data: bytes) -> None:
        self.zip.writestr(name, data)
        self.files[name] = {
            "sha256": hashlib.sha256(data).hexdigest(),
            "bytes": len(data),
            "lines": len(bundle_verify.split_lines(data)),
        }

    def _copy(self, name: str, source: IO[bytes], index: IO[bytes] | None = None) -> None:
        source.seek(0)
        member = ZipMember(self.zip, name, index)
        while chunk := source.read(CHUNK):
            member.write(chunk)
        self.files[name] = member.close()

    def add_table(self, base: str, columns: tuple[str, ...], rows: Any, tick: Any) -> int:
        """Write rows as JSON Lines and CSV, each with a signed per-line index.

        A ZIP takes one open member at a time: JSON Lines stream straight in, the
        CSV and the indexes are spooled and copied in afterwards.
        """
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(columns)
        count = 0
        with _spool() as csv_spool, _spool() as jsonl_index, _spool() as csv_index:
            jsonl = ZipMember(self.zip, f"{base}.jsonl", jsonl_index)
            for row in rows:
                jsonl.write(
                    json.dumps(
                        row, sort_keys=True, separators=(",", ":"), ensure_ascii=False
                    ).encode()
                    + b"\n"
                )
                writer.writerow([_csv_cell(row.get(column)) for column in columns])
                if text.tell() > 64 * 1024:
                    csv_spool.write(text.getvalue().encode())
                    text.seek(0)
                    text.truncate()
                count += 1
                tick()
            csv_spool.write(text.getvalue().encode())
            self.files[jsonl.name] = jsonl.close()
            self._copy(f"{base}.csv", csv_spool, csv_index)
            self._copy(f"index/{base}.jsonl.lines", jsonl_index)
            self._copy(f"index/{base}.csv.lines", csv_index)
        return count


def _csv_cell(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "" if value is None else str(value)
