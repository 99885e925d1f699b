"""Streaming ZIP members with SHA-256, size and per-line hashes (for the signed index)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import tempfile
import zipfile
from dataclasses import dataclass, field
from typing import Any

from compliance import bundle_verify


class ZipMember:
    """One file streamed into the ZIP: SHA-256, size and per-line hashes as it is written."""

    def __init__(self, bundle: zipfile.ZipFile, name: str) -> None:
        self.name = name
        self.handle = bundle.open(name, "w", force_zip64=True)
        self.sha = hashlib.sha256()
        self.size = 0
        self.line_hashes: list[str] = []
        self._partial = b""

    def write(self, data: bytes) -> None:
        self.handle.write(data)
        self.sha.update(data)
        self.size += len(data)
        pieces = (self._partial + data).split(b"\n")
        self._partial = pieces.pop()
        self.line_hashes.extend(hashlib.sha256(piece).hexdigest() for piece in pieces)

    def close(self) -> dict[str, Any]:
        if self._partial:
            self.line_hashes.append(hashlib.sha256(self._partial).hexdigest())
        self.handle.close()
        return {"sha256": self.sha.hexdigest(), "bytes": self.size, "lines": len(self.line_hashes)}


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

    def add_table(self, base: str, columns: tuple[str, ...], rows: Any, tick: Any) -> int:
        """Write rows as JSON Lines and CSV (with a signed per-line index for each).

        A ZIP takes one open member at a time: JSON Lines stream straight in, the
        CSV goes through a spooled temporary file and is copied in afterwards.
        """
        jsonl = ZipMember(self.zip, f"{base}.jsonl")
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(columns)
        count = 0
        with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as spool:
            for row in rows:
                jsonl.write(
                    json.dumps(
                        row, sort_keys=True, separators=(",", ":"), ensure_ascii=False
                    ).encode()
                    + b"\n"
                )
                writer.writerow([_csv_cell(row.get(column)) for column in columns])
                if text.tell() > 64 * 1024:
                    spool.write(text.getvalue().encode())
                    text.seek(0)
                    text.truncate()
                count += 1
                tick()
            spool.write(text.getvalue().encode())
            self.files[jsonl.name] = jsonl.close()
            spool.seek(0)
            csv_member = ZipMember(self.zip, f"{base}.csv")
            while chunk := spool.read(1024 * 1024):
                csv_member.write(chunk)
            self.files[csv_member.name] = csv_member.close()
        for member in (jsonl, csv_member):
            index = "".join(h + "\n" for h in member.line_hashes).encode()
            self.add(f"index/{member.name}.lines", index)
        return count


def _csv_cell(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "" if value is None else str(value)
