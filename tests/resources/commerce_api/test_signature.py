import bcrypt
import pytest

from resources.commerce_api.signature import canonical_bcrypt_salt, client_secret_sign


def test_documented_test_vector_signs_as_the_official_samples_do():
    sign = client_secret_sign("aaaabbbbcccc", 1643961623299, "$2a$10$abcdefghijklmnopqrstuv")
    assert sign == "JDJhJDEwJGFiY2RlZmdoaWprbG1ub3BxcnN0dXVCVldZSk42T0VPdEx1OFY0cDQxa2IuTnpVaUEzbmsy"


def test_canonical_salt_leaves_a_canonical_salt_alone():
    salt = bcrypt.gensalt(rounds=4).decode()
    assert canonical_bcrypt_salt(salt) == salt.encode()


@pytest.mark.parametrize("secret", ["not-a-bcrypt-salt-at-all-really", "$2a$10$short", "$2a$10$abcdefghijklmnopqrstu!"])
def test_secret_that_is_not_a_bcrypt_salt_is_refused_without_echoing_it(secret):
    with pytest.raises(ValueError) as error:
        canonical_bcrypt_salt(secret)
    assert secret not in str(error.value)
