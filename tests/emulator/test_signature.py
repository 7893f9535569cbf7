"""The bcrypt signature of token requests, including Naver's non-canonical documented test vector."""

import base64

import pytest

from commerce_emulator import DEFAULT_CLIENT_SECRET, canonical_bcrypt_salt, client_secret_sign
from commerce_emulator.signature import InvalidClientSecret, is_valid_sign


def test_documented_test_vector_matches_the_official_samples():
    sign = client_secret_sign("aaaabbbbcccc", 1643961623299, "$2a$10$abcdefghijklmnopqrstuv")
    assert sign == "JDJhJDEwJGFiY2RlZmdoaWprbG1ub3BxcnN0dXVCVldZSk42T0VPdEx1OFY0cDQxa2IuTnpVaUEzbmsy"


def test_signature_is_base64_of_the_whole_bcrypt_string():
    decoded = base64.b64decode(client_secret_sign("aaaabbbbcccc", "1643961623299", "$2a$10$abcdefghijklmnopqrstuv"))
    assert decoded.startswith(b"$2a$10$abcdefghijklmnopqrstuu")
    assert len(decoded) == 60


def test_non_canonical_salt_loses_the_low_bits_of_its_last_character():
    assert canonical_bcrypt_salt("$2a$10$abcdefghijklmnopqrstuv") == b"$2a$10$abcdefghijklmnopqrstuu"
    # "9" is the last alphabet entry (index 63); only its top two bits (48 -> "u") survive.
    assert canonical_bcrypt_salt("$2a$04$" + "A" * 21 + "9") == ("$2a$04$" + "A" * 21 + "u").encode()


def test_default_secret_is_already_canonical():
    assert canonical_bcrypt_salt(DEFAULT_CLIENT_SECRET) == DEFAULT_CLIENT_SECRET.encode()


@pytest.mark.parametrize(
    "secret", ["", "plain-secret", "$2a$10$short", "$2a$99$abcdefghijklmnopqrstuu", "$3a$10$abcdefghijklmnopqrstuu"]
)
def test_secrets_that_are_not_bcrypt_salts_are_rejected_without_echoing_them(secret):
    with pytest.raises(InvalidClientSecret) as raised:
        canonical_bcrypt_salt(secret)
    assert secret == "" or secret not in str(raised.value)


def test_is_valid_sign_rejects_a_signature_for_another_timestamp():
    sign = client_secret_sign("aaaabbbbcccc", 1643961623299, "$2a$04$abcdefghijklmnopqrstuu")
    assert is_valid_sign("aaaabbbbcccc", 1643961623299, "$2a$04$abcdefghijklmnopqrstuu", sign)
    assert not is_valid_sign("aaaabbbbcccc", 1643961623300, "$2a$04$abcdefghijklmnopqrstuu", sign)
