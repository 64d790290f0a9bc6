"""RSA keys as the providers hand them out: PEM, or the bare base64 body their consoles show.

Alipay's console gives the app private key as a base64 PKCS#8 (Java) or PKCS#1 body without PEM
armour, and its public key as a base64 SubjectPublicKeyInfo body; WeChat Pay gives PEM files. Both
forms load here, so a configuration can paste what the console shows.
"""

from __future__ import annotations

import base64
import binascii

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def load_private_key(text: str) -> rsa.RSAPrivateKey:
    """An RSA private key from PEM or a base64 DER body (PKCS#8 or PKCS#1); ValueError otherwise."""
    try:
        key = (
            serialization.load_pem_private_key(text.strip().encode("ascii"), None)
            if _is_pem(text)
            else serialization.load_der_private_key(_der(text), None)
        )
    except (TypeError, UnicodeError):  # encrypted keys, non-ASCII text
        raise ValueError("the private key must be unencrypted PEM or a base64 body") from None
    if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < 2048:
        raise ValueError("the key must be an RSA private key of at least 2048 bits")
    return key


def load_public_key(text: str) -> rsa.RSAPublicKey:
    """An RSA public key from PEM or a base64 SubjectPublicKeyInfo body; ValueError otherwise."""
    try:
        key = (
            serialization.load_pem_public_key(text.strip().encode("ascii"))
            if _is_pem(text)
            else serialization.load_der_public_key(_der(text))
        )
    except UnicodeError:
        raise ValueError("the public key must be PEM or a base64 body") from None
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size < 2048:
        raise ValueError("the key must be an RSA public key of at least 2048 bits")
    return key


def private_pem(key: rsa.RSAPrivateKey) -> str:
    """PKCS#8 PEM text of ``key`` (what configuration files and WeChat Pay's tools use)."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def public_pem(key: rsa.RSAPublicKey) -> str:
    """SubjectPublicKeyInfo PEM text of ``key``."""
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def pem_body(pem: str) -> str:
    """The base64 body of a PEM block, without armour or line breaks (the consoles' notation)."""
    return "".join(line.strip() for line in pem.strip().splitlines() if not line.startswith("-----"))


def _is_pem(text: str) -> bool:
    return text.lstrip().startswith("-----BEGIN ")


def _der(text: str) -> bytes:
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the key is neither PEM nor a base64 body") from None
