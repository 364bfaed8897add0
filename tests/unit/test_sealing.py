"""Sealed values (the TOTP secrets at rest): they open with the same key and purpose only, and
any change to them is noticed."""

from __future__ import annotations

from award_jury.accounts.sealing import seal, unseal

KEY = "test-secret-key-0123456789abcdef"


def test_sealed_value_opens_with_the_same_key_and_purpose() -> None:
    sealed = seal(KEY, "totp:7", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    assert "JBSWY3DP" not in sealed
    assert unseal(KEY, "totp:7", sealed) == "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def test_sealing_twice_gives_different_texts() -> None:
    assert seal(KEY, "p", "same") != seal(KEY, "p", "same")


def test_other_key_or_purpose_does_not_open() -> None:
    sealed = seal(KEY, "totp:7", "secret")
    assert unseal("another-key-0123456789abcdefghij", "totp:7", sealed) is None
    assert unseal(KEY, "totp:8", sealed) is None
    assert unseal("", "totp:7", sealed) is None


def test_tampered_or_malformed_values_do_not_open() -> None:
    sealed = seal(KEY, "p", "a longer secret than one block of the keystream, to use two blocks")
    version, nonce, cipher, tag = sealed.split(".")
    flipped = cipher[:-2] + ("A" if cipher[-2] != "A" else "B") + cipher[-1]
    assert unseal(KEY, "p", ".".join([version, nonce, flipped, tag])) is None
    assert unseal(KEY, "p", "s1.not.base64!.x") is None
    assert unseal(KEY, "p", "nonsense") is None
    assert unseal(KEY, "p", "s2" + sealed[2:]) is None
    assert unseal(KEY, "p", sealed) == "a longer secret than one block of the keystream, to use two blocks"
