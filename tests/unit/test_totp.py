"""TOTP (RFC 6238) against the RFC's own test vectors, and the rules around it: clock skew of one
step either side, a used step never matching again, typed codes forgiven for spaces."""

from __future__ import annotations

import base64

import pytest

from award_jury.accounts import totp

SEED_SHA1 = b"12345678901234567890"
SEED_SHA256 = b"12345678901234567890123456789012"
SEED_SHA512 = b"1234567890123456789012345678901234567890123456789012345678901234"

# RFC 6238 Appendix B: (time, sha1, sha256, sha512), 8 digits, 30-second steps.
RFC6238_VECTORS = [
    (59, "94287082", "46119246", "90693936"),
    (1111111109, "07081804", "68084774", "25091201"),
    (1111111111, "14050471", "67062674", "99943326"),
    (1234567890, "89005924", "91819424", "93441116"),
    (2000000000, "69279037", "90698825", "38618901"),
    (20000000000, "65353130", "77737706", "47863826"),
]

# RFC 4226 Appendix D: HOTP of the SHA-1 seed for counters 0 to 9, 6 digits.
RFC4226_VECTORS = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"]


@pytest.mark.parametrize(("unix_time", "sha1", "sha256", "sha512"), RFC6238_VECTORS)
def test_totp_matches_rfc6238_vectors(unix_time: int, sha1: str, sha256: str, sha512: str) -> None:
    assert totp.totp(SEED_SHA1, unix_time, digits=8, algorithm="sha1") == sha1
    assert totp.totp(SEED_SHA256, unix_time, digits=8, algorithm="sha256") == sha256
    assert totp.totp(SEED_SHA512, unix_time, digits=8, algorithm="sha512") == sha512


def test_hotp_matches_rfc4226_vectors() -> None:
    assert [totp.hotp(SEED_SHA1, counter) for counter in range(10)] == RFC4226_VECTORS


def _secret() -> str:
    return base64.b32encode(SEED_SHA1).decode().rstrip("=")


def test_matching_step_accepts_one_step_of_skew_either_side() -> None:
    secret = _secret()
    now = 1_111_111_111  # step 37037037
    step = totp.time_step(now)
    for offset in (-1, 0, 1):
        code = totp.hotp(SEED_SHA1, step + offset)
        assert totp.matching_step(secret, code, now) == step + offset
    assert totp.matching_step(secret, totp.hotp(SEED_SHA1, step + 2), now) is None
    assert totp.matching_step(secret, totp.hotp(SEED_SHA1, step - 2), now) is None


def test_matching_step_refuses_a_step_already_used() -> None:
    secret, now = _secret(), 1_234_567_890
    step = totp.time_step(now)
    code = totp.hotp(SEED_SHA1, step)
    assert totp.matching_step(secret, code, now, after=step - 1) == step
    assert totp.matching_step(secret, code, now, after=step) is None
    # a later step's code still works after an earlier one was used
    assert totp.matching_step(secret, totp.hotp(SEED_SHA1, step + 1), now, after=step) == step + 1


def test_typed_codes_forgive_spaces_and_refuse_other_text() -> None:
    assert totp.normalise_code(" 123 456 ") == "123456"
    assert totp.normalise_code("123-456") == "123456"
    assert totp.normalise_code("12345") is None
    assert totp.normalise_code("１２３４５６") is None  # full-width digits are not ASCII
    assert totp.normalise_code("abcdef") is None


def test_new_secrets_are_160_bits_and_differ() -> None:
    a, b = totp.new_secret(), totp.new_secret()
    assert a != b
    assert len(totp.secret_bytes(a)) == 20
    assert totp.grouped("ABCDEFGHIJ") == "ABCD EFGH IJ"


def test_provisioning_uri_names_issuer_and_account() -> None:
    uri = totp.provisioning_uri("JBSWY3DPEHPK3PXP", account="olga@example.org", issuer="awards.example.org")
    assert uri == (
        "otpauth://totp/awards.example.org:olga@example.org?secret=JBSWY3DPEHPK3PXP"
        "&issuer=awards.example.org&algorithm=SHA1&digits=6&period=30"
    )
