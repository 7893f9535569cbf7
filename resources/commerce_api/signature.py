"""The `client_secret_sign` of the token request: bcrypt over `{client_id}_{timestamp}`, base64'd."""

from __future__ import annotations

import base64

import bcrypt

# bcrypt's own base64 alphabet (not RFC 4648's).
_BCRYPT_ALPHABET = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_SALT_PREFIX_LENGTH = 7  # "$2a$10$"
_SALT_LENGTH = 22


def canonical_bcrypt_salt(client_secret: str) -> bytes:
    """Return the secret as a salt that pyca/bcrypt accepts.

    The 22 salt characters carry 128 bits, so the last one holds only 2 bits. Java, Node and
    PHP decode and re-encode the salt, silently zeroing the 4 spare bits; pyca/bcrypt rejects a
    salt whose spare bits are set (the official test vector's secret is one). Zeroing them here
    gives the same hash as the official samples.
    """
    if len(client_secret) < _SALT_PREFIX_LENGTH + _SALT_LENGTH or not client_secret.startswith("$2"):
        raise ValueError("client secret is not a bcrypt salt string ($2a$NN$ + 22 characters)")
    salt_end = _SALT_PREFIX_LENGTH + _SALT_LENGTH
    last = client_secret[salt_end - 1]
    index = _BCRYPT_ALPHABET.find(last)
    if index < 0:
        raise ValueError("client secret has a character outside bcrypt's alphabet")
    canonical = client_secret[: salt_end - 1] + _BCRYPT_ALPHABET[index & 0b110000]
    return canonical.encode("ascii")


def client_secret_sign(client_id: str, timestamp_ms: int, client_secret: str) -> str:
    """Sign a token request exactly as the official samples do."""
    password = f"{client_id}_{timestamp_ms}".encode()
    hashed = bcrypt.hashpw(password, canonical_bcrypt_salt(client_secret))
    return base64.standard_b64encode(hashed).decode("ascii")
