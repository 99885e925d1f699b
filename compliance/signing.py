"""The Ed25519 key that signs audit checkpoints and evidence manifests."""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings

from core.exceptions import ApplicationError


@dataclass(frozen=True)
class SigningKey:
    private_key: Ed25519PrivateKey
    public_key_pem: str
    key_id: str

    def sign(self, message: bytes) -> str:
        """Base64 of the detached Ed25519 signature over `message`."""
        return base64.b64encode(self.private_key.sign(message)).decode()


def key_id_of(public_key_pem: str) -> str:
    """First 16 bytes (hex) of SHA-256 over the public key PEM: short, printable, unique."""
    return hashlib.sha256(public_key_pem.strip().encode()).hexdigest()[:32]


def generate_signing_key(*, path: Path, overwrite: bool = False) -> str:
    """Write a new private key (mode 0600) and return its key id."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise ApplicationError(
            "Signing key exists.", details={"path": f"{path} exists; pass overwrite to replace it."}
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return key_id_of(_public_pem(key))


def _public_pem(key: Ed25519PrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


_cache: dict[tuple[str, float], SigningKey] = {}


def signing_key_load() -> SigningKey:
    """The configured key; ApplicationError naming the fix when it is missing or unusable."""
    path = Path(settings.VIGIL_SIGNING_KEY_PATH)
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError as exc:
        raise ApplicationError(
            "No signing key.",
            details={"signing_key": f"{path} does not exist: run `manage.py create_signing_key`."},
        ) from exc
    cached = _cache.get((str(path), mtime))
    if cached is not None:
        return cached
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise ApplicationError(
            "Unusable signing key.", details={"signing_key": f"{path}: {exc}"}
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ApplicationError(
            "Unusable signing key.", details={"signing_key": f"{path} is not an Ed25519 key."}
        )
    public_pem = _public_pem(key)
    loaded = SigningKey(private_key=key, public_key_pem=public_pem, key_id=key_id_of(public_pem))
    _cache.clear()
    _cache[(str(path), mtime)] = loaded
    return loaded
