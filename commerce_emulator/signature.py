"""The token request's `client_secret_sign`: base64 of bcrypt(f"{client_id}_{timestamp}", salt=client secret)."""

from __future__ import annotations

import base64
import hmac
import re

import bcrypt

# bcrypt's own base64 alphabet (not RFC 4648's): the salt is 22 of these characters.
BCRYPT_BASE64_ALPHABET = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

_SALT_PATTERN = re.compile(r"\$(2[aby])\$(\d{2})\$([./A-Za-z0-9]{22})")
_BCRYPT_MAX_PASSWORD_BYTES = 72


class InvalidClientSecret(ValueError):
    """The client secret is not a bcrypt salt string (`$2a$NN$` followed by 22 salt characters)."""


def canonical_bcrypt_salt(secret: str) -> bytes:
    """The secret as a salt pyca/bcrypt accepts.

    22 base64 characters carry 132 bits but a bcrypt salt is 128 bits, so the
    last character only contributes its top 2 bits. Java, Node and PHP decode
    the salt to 16 bytes and re-encode it, silently clearing the low 4 bits;
    pyca/bcrypt 5 instead rejects such a salt ("Invalid salt"). Clearing those
    bits here reproduces what the official samples compute, e.g. the documented
    secret `$2a$10$abcdefghijklmnopqrstuv` becomes `...stuu`.
    """
    match = _SALT_PATTERN.fullmatch(secret) if isinstance(secret, str) else None
    if match is None:
        # The secret itself stays out of the message: messages end up in logs.
        raise InvalidClientSecret("client secret must look like $2a$NN$ followed by 22 bcrypt-base64 characters")
    version, cost, salt = match.groups()
    if not 4 <= int(cost) <= 31:
        raise InvalidClientSecret(f"bcrypt cost must be between 04 and 31, got {cost}")
    last_index = BCRYPT_BASE64_ALPHABET.index(salt[21]) & 0b110000
    return f"${version}${cost}${salt[:21]}{BCRYPT_BASE64_ALPHABET[last_index]}".encode("ascii")


def client_secret_sign(client_id: str, timestamp_ms: int | str, client_secret: str) -> str:
    """The `client_secret_sign` value for a token request made at `timestamp_ms`."""
    password = f"{client_id}_{timestamp_ms}".encode()
    if len(password) > _BCRYPT_MAX_PASSWORD_BYTES:
        # bcrypt only reads 72 bytes; pyca/bcrypt 5 refuses longer input outright.
        raise ValueError(f"client_id is too long to sign ({len(password)} bytes with the timestamp, max 72)")
    hashed = bcrypt.hashpw(password, canonical_bcrypt_salt(client_secret))
    return base64.b64encode(hashed).decode("ascii")


def is_valid_sign(client_id: str, timestamp_ms: int | str, client_secret: str, presented_sign: str) -> bool:
    """True when `presented_sign` is the signature of this client at this timestamp."""
    expected = client_secret_sign(client_id, timestamp_ms, client_secret)
    return hmac.compare_digest(expected.encode("ascii"), presented_sign.encode("utf-8", "replace"))
