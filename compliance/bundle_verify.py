#!/usr/bin/env python3
"""Verify a Vigil evidence bundle offline.

    python verify_bundle.py BUNDLE.zip [--public-key TRUSTED.pem]

Needs only Python 3.9+ and the `cryptography` package. It checks, and reports
precisely what fails:

1. manifest.sig is a valid Ed25519 signature over manifest.json, made by the
   bundled public key (or by --public-key, the key your organisation pinned);
2. every file has the SHA-256 the signed manifest lists; for a file that
   differs, the signed per-line index (index/<file>.lines) says which line was
   changed, removed, inserted or swapped;
3. every audit entry re-hashes to its entry_hash, links to the entry before it
   (from the first included entry's prev_hash: a bundle may start mid-chain),
   and no sequence number is missing, repeated or out of order;
4. every checkpoint carries a valid signature and matches the entry it vouches for.

Exit status 0 when everything verifies, 1 otherwise. This same file is used
by `manage.py verify_evidence` inside Vigil.
"""

from __future__ import annotations

import argparse
import base64
import difflib
import hashlib
import json
import sys
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

FORMAT = "vigil-evidence/1"
GENESIS_HASH = "0" * 64
ENTRIES = "audit/entries.jsonl"
CHECKPOINTS = "checkpoints/checkpoints.jsonl"
HASHED_FIELDS = (
    "chain",
    "seq",
    "occurred_at",
    "actor_type",
    "actor_id",
    "actor_label",
    "actor_role",
    "action",
    "object_type",
    "object_id",
    "before",
    "after",
    "ip",
    "user_agent",
    "request_id",
    "prev_hash",
)
MAX_PROBLEMS_PER_CHECK = 25


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def canonical_entry_bytes(entry: dict[str, Any]) -> bytes:
    """Same encoding as Vigil's writer: sorted keys, no whitespace, UTF-8."""
    payload = {name: entry[name] for name in HASHED_FIELDS}
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def checkpoint_message(checkpoint: dict[str, Any]) -> bytes:
    payload = {
        name: checkpoint[name] for name in ("chain", "seq", "head_hash", "signed_at", "key_id")
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


def split_lines(data: bytes) -> list[bytes]:
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return lines


def line_hashes(data: bytes) -> list[str]:
    return [hashlib.sha256(line).hexdigest() for line in split_lines(data)]


def _swaps(expected: list[str], actual: list[str]) -> list[str]:
    """Same lines in another order: name the swapped pairs, else the misplaced lines."""
    wrong = [i for i in range(len(expected)) if expected[i] != actual[i]]
    if len(wrong) == 2:
        return [f"lines {wrong[0] + 1} and {wrong[1] + 1} are swapped"]
    shown = ", ".join(str(i + 1) for i in wrong[:10]) + (" …" if len(wrong) > 10 else "")
    return [f"lines reordered: lines {shown} are not where they were signed"]


def diff_lines(name: str, expected: list[str], actual: list[str]) -> list[str]:
    """Explain how `actual` line hashes differ from the signed `expected` ones."""
    if expected == actual:
        return []
    if Counter(expected) == Counter(actual):
        return [f"{name}: {message}" for message in _swaps(expected, actual)]
    expected_set, actual_set = set(expected), set(actual)
    out: list[str] = []
    matcher = difflib.SequenceMatcher(None, expected, actual, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if tag == "replace" and i2 - i1 == j2 - j1:
            for offset in range(i2 - i1):
                line = j1 + offset + 1
                if actual[j1 + offset] in expected_set:
                    out.append(f"{name}: line {line} was moved here from another position")
                else:
                    out.append(
                        f"{name}: line {line} was changed (its SHA-256 is not the signed one)"
                    )
            continue
        for i in range(i1, i2):
            if expected[i] in actual_set:
                out.append(f"{name}: line {i + 1} was moved to another position")
            else:
                out.append(
                    f"{name}: line {i + 1} was removed (signed with {len(expected)} lines, "
                    f"found {len(actual)})"
                )
        for j in range(j1, j2):
            if actual[j] in expected_set:
                out.append(f"{name}: line {j + 1} was moved here from another position")
            else:
                out.append(f"{name}: line {j + 1} was inserted (it is not in the signed index)")
    return out[:MAX_PROBLEMS_PER_CHECK] or [f"{name}: content differs from the signed file"]


def _load_public_key(pem: bytes, what: str, report: Report) -> Ed25519PublicKey | None:
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError:
        report.problems.append(f"{what}: not a readable PEM public key")
        return None
    if not isinstance(key, Ed25519PublicKey):
        report.problems.append(f"{what}: not an Ed25519 public key")
        return None
    return key


def _raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _check_signature(bundle: zipfile.ZipFile, report: Report, trusted_pem: bytes | None) -> bool:
    key = _load_public_key(bundle.read("public_key.pem"), "public_key.pem", report)
    if key is None:
        return False
    if trusted_pem is not None:
        trusted = _load_public_key(trusted_pem, "--public-key", report)
        if trusted is None:
            return False
        if _raw(trusted) != _raw(key):
            report.problems.append(
                "public_key.pem: the bundle was signed with a different key than the trusted one"
            )
            return False
    try:
        signature = base64.b64decode(bundle.read("manifest.sig").strip(), validate=True)
        key.verify(signature, bundle.read("manifest.json"))
    except (InvalidSignature, ValueError):
        report.problems.append(
            "manifest.sig: the signature does not verify: manifest.json was changed after "
            "signing, or it was signed by another key"
        )
        return False
    report.notes.append(
        "manifest.json signature: valid (Ed25519, key sha256 "
        f"{hashlib.sha256(_raw(key)).hexdigest()[:16]}…)"
    )
    return True


def _check_files(bundle: zipfile.ZipFile, manifest: dict[str, Any], report: Report) -> set[str]:
    """SHA-256 of every file; returns the names whose content is intact."""
    files: dict[str, dict[str, Any]] = manifest.get("files", {})
    present = set(bundle.namelist())
    intact: set[str] = set()
    for name in sorted(present - set(files) - {"manifest.json", "manifest.sig"}):
        report.problems.append(f"{name}: file is not listed in the signed manifest (added later)")
    for name in sorted(files):
        if name not in present:
            report.problems.append(f"{name}: listed in the signed manifest but missing")
            continue
        data = bundle.read(name)
        if hashlib.sha256(data).hexdigest() == files[name].get("sha256"):
            intact.add(name)
    for name in sorted(files):
        if name not in present or name in intact:
            continue
        index_name = f"index/{name}.lines"
        if index_name in intact:
            expected = bundle.read(index_name).decode().split()
            report.problems.extend(diff_lines(name, expected, line_hashes(bundle.read(name))))
        else:
            report.problems.append(f"{name}: SHA-256 differs from the signed manifest (changed)")
    if len(intact) == len(files):
        report.notes.append(f"file hashes: all {len(files)} files match the signed manifest")
    return intact


def _parse_jsonl(name: str, data: bytes, report: Report) -> list[tuple[int, dict[str, Any]]]:
    rows = []
    for number, line in enumerate(split_lines(data), start=1):
        try:
            value = json.loads(line)
        except (UnicodeDecodeError, ValueError):
            report.problems.append(f"{name} line {number}: not valid JSON (bytes were changed)")
            continue
        if not isinstance(value, dict):
            report.problems.append(f"{name} line {number}: not a JSON object")
            continue
        rows.append((number, value))
    return rows


def _check_sequence(rows: list[tuple[int, dict[str, Any]]], report: Report) -> None:
    if not rows or not all(isinstance(row.get("seq"), int) for _, row in rows):
        return
    seqs: list[int] = [row["seq"] for _, row in rows]
    counts = Counter(seqs)
    for seq in sorted(s for s, n in counts.items() if n > 1):
        lines = [str(number) for number, row in rows if row.get("seq") == seq]
        report.problems.append(
            f"{ENTRIES}: seq {seq} appears on lines {', '.join(lines)} (an entry was inserted)"
        )
    low, high = min(seqs), max(seqs)
    missing = sorted(set(range(low, high + 1)) - set(seqs))
    for seq in missing[:MAX_PROBLEMS_PER_CHECK]:
        report.problems.append(f"{ENTRIES}: entry seq {seq} is missing (it was removed)")
    ordered = sorted(seqs)
    if not missing and len(counts) == len(seqs) and seqs != ordered:
        wrong = [i for i in range(len(seqs)) if seqs[i] != ordered[i]]
        where = ", ".join(f"line {rows[i][0]} holds seq {seqs[i]}" for i in wrong[:10])
        report.problems.append(f"{ENTRIES}: entries are out of order ({where})")


def _check_chain(
    bundle: zipfile.ZipFile, manifest: dict[str, Any], report: Report
) -> dict[int, str]:
    """Re-hash and re-link every entry; return seq -> recomputed hash."""
    audit = manifest.get("audit") or {}
    rows = _parse_jsonl(ENTRIES, bundle.read(ENTRIES), report)
    _check_sequence(rows, report)
    hashes: dict[int, str] = {}
    previous_hash = audit.get("first_prev_hash")
    previous_label = "the manifest's first_prev_hash"
    failures = 0
    for number, row in rows:
        label = f"{ENTRIES} line {number} (seq {row.get('seq')})"
        try:
            recomputed = hashlib.sha256(canonical_entry_bytes(row)).hexdigest()
        except KeyError as exc:
            report.problems.append(f"{label}: field {exc} is missing")
            failures += 1
            continue
        if recomputed != row.get("entry_hash"):
            report.problems.append(
                f"{label}: content does not match its entry_hash (the entry was changed)"
            )
            failures += 1
        if previous_hash is not None and row.get("prev_hash") != previous_hash:
            report.problems.append(
                f"{label}: prev_hash does not link to {previous_label} (an entry before it "
                "was removed, inserted, reordered or changed)"
            )
            failures += 1
        if isinstance(row.get("seq"), int):
            hashes[row["seq"]] = recomputed
        previous_hash = row.get("entry_hash")
        previous_label = f"line {number}"
        if failures >= MAX_PROBLEMS_PER_CHECK:
            report.problems.append(f"{ENTRIES}: further chain errors not listed")
            break
    expected_count = (manifest.get("counts") or {}).get("audit_entries")
    if expected_count is not None and expected_count != len(rows):
        report.problems.append(
            f"{ENTRIES}: the manifest counts {expected_count} entries, the file holds {len(rows)}"
        )
    if (
        rows
        and audit.get("last_entry_hash")
        and rows[-1][1].get("entry_hash") != audit.get("last_entry_hash")
    ):
        report.problems.append(
            f"{ENTRIES}: the last entry is not the signed last_entry_hash (entries cut or added)"
        )
    if not failures and rows:
        report.notes.append(
            f"audit chain: {len(rows)} entries, seq {rows[0][1].get('seq')}-"
            f"{rows[-1][1].get('seq')}, every link verified"
        )
    return hashes


def _check_checkpoints(
    bundle: zipfile.ZipFile, manifest: dict[str, Any], hashes: dict[int, str], report: Report
) -> None:
    rows = _parse_jsonl(CHECKPOINTS, bundle.read(CHECKPOINTS), report)
    signer = (manifest.get("signing_key") or {}).get("key_id")
    matched = 0
    for number, checkpoint in rows:
        label = f"{CHECKPOINTS} line {number} (seq {checkpoint.get('seq')})"
        key = _load_public_key(str(checkpoint.get("public_key_pem", "")).encode(), label, report)
        if key is None:
            continue
        try:
            key.verify(base64.b64decode(checkpoint["signature"]), checkpoint_message(checkpoint))
        except (InvalidSignature, ValueError, KeyError):
            report.problems.append(f"{label}: checkpoint signature does not verify")
            continue
        if checkpoint.get("key_id") != signer:
            report.notes.append(f"{label}: signed by an earlier key {checkpoint.get('key_id')}")
        seq = checkpoint.get("seq")
        if isinstance(seq, int) and seq in hashes:
            if hashes[seq] != checkpoint.get("head_hash"):
                report.problems.append(
                    f"{label}: the signed head hash does not match entry seq {seq} "
                    "(history was rewritten)"
                )
            else:
                matched += 1
    if rows:
        report.notes.append(f"checkpoints: {len(rows)} signed, {matched} matched included entries")


def verify_bundle(path: str, trusted_public_key_pem: bytes | None = None) -> Report:
    report = Report()
    try:
        bundle = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        report.problems.append(f"{path}: not a readable ZIP file ({exc})")
        return report
    with bundle:
        names = set(bundle.namelist())
        for required in ("manifest.json", "manifest.sig", "public_key.pem"):
            if required not in names:
                report.problems.append(f"{required}: missing from the bundle")
        if report.problems:
            return report
        _check_signature(bundle, report, trusted_public_key_pem)
        try:
            manifest = json.loads(bundle.read("manifest.json"))
        except ValueError:
            report.problems.append("manifest.json: not valid JSON")
            return report
        if manifest.get("format") != FORMAT:
            report.problems.append(f"manifest.json: unknown format {manifest.get('format')!r}")
            return report
        _check_files(bundle, manifest, report)
        hashes: dict[int, str] = {}
        if ENTRIES in names:
            hashes = _check_chain(bundle, manifest, report)
        if CHECKPOINTS in names:
            _check_checkpoints(bundle, manifest, hashes, report)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Verify a Vigil evidence bundle offline.")
    parser.add_argument("bundle", help="the evidence ZIP")
    parser.add_argument("--public-key", help="PEM of the key you trust (default: the bundled one)")
    args = parser.parse_args(argv)
    trusted = None
    if args.public_key:
        with open(args.public_key, "rb") as handle:
            trusted = handle.read()
    report = verify_bundle(args.bundle, trusted)
    for note in report.notes:
        print(f"ok    {note}")
    for problem in report.problems:
        print(f"FAIL  {problem}")
    print("VERIFIED" if report.ok else f"NOT VERIFIED: {len(report.problems)} problem(s)")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
