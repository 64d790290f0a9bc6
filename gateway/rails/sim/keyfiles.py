"""Key files for a standalone rail simulator: given ones, or a fresh set written once and reused.

Nothing here is committed: ``chargegate simulate alipay|wechatpay`` generates 2048-bit keys on
first start into its ``--keys-dir`` (default ``var/<rail>-sim-keys``), and the gateway's
configuration points at the merchant half (docs/payments.md).
"""

from __future__ import annotations

import secrets
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa

from gateway.rails.keys import private_pem, public_pem


def key_pair(directory: Path, name: str) -> tuple[str, str]:
    """``(private PEM, public PEM)`` of ``name`` in ``directory``, generated (mode 0600) if absent."""
    private_file, public_file = directory / f"{name}_private_key.pem", directory / f"{name}_public_key.pem"
    if not private_file.exists():
        directory.mkdir(parents=True, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private_file.touch(mode=0o600)
        private_file.write_text(private_pem(key), encoding="ascii")
        public_file.write_text(public_pem(key.public_key()), encoding="ascii")
    return private_file.read_text(encoding="ascii"), public_file.read_text(encoding="ascii")


def secret(directory: Path, name: str, length: int = 32) -> str:
    """A random ASCII secret (e.g. an APIv3 key) kept in ``directory/name`` (mode 0600)."""
    path = directory / name
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(length)[:length], encoding="ascii")
    return path.read_text(encoding="ascii").strip()


def read_text(path: str) -> str:
    return Path(path).read_text(encoding="ascii")
