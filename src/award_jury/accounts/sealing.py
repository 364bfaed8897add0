"""Small secrets sealed with the app's secret key: encrypted and authenticated, with the
standard library only.

Construction: two keys derived from the secret key by HMAC-SHA256 with distinct labels; a
random 16-byte nonce; the keystream is HMAC-SHA256(enc_key, nonce ‖ counter) (HMAC as a PRF in
counter mode), XORed with the plain text; the tag is HMAC-SHA256(mac_key, purpose ‖ nonce ‖
cipher text) (encrypt-then-MAC). ``purpose`` binds a sealed value to where it belongs (e.g. the
person it is for), so a value copied to another row or form does not open there.

Used for the TOTP secrets at rest and for the set-up form's hidden field. Changing the secret
key makes every sealed value unreadable (the owners then sign in with a recovery code)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

_VERSION = "s1"
_NONCE = 16


def _key(secret_key: str, label: bytes) -> bytes:
    return hmac.new(secret_key.encode("utf-8"), b"award-jury sealing\x00" + label, hashlib.sha256).digest()


def _keystream(key: bytes, nonce: bytes, length: int) -> bytes:
    blocks = (hmac.new(key, nonce + i.to_bytes(4, "big"), hashlib.sha256).digest() for i in range(length // 32 + 1))
    return b"".join(blocks)[:length]


def _tag(key: bytes, purpose: str, nonce: bytes, cipher: bytes) -> bytes:
    return hmac.new(key, purpose.encode("utf-8") + b"\x00" + nonce + cipher, hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def seal(secret_key: str, purpose: str, plain: str) -> str:
    data = plain.encode("utf-8")
    nonce = secrets.token_bytes(_NONCE)
    cipher = bytes(a ^ b for a, b in zip(data, _keystream(_key(secret_key, b"enc"), nonce, len(data)), strict=True))
    tag = _tag(_key(secret_key, b"mac"), purpose, nonce, cipher)
    return ".".join([_VERSION, _b64(nonce), _b64(cipher), _b64(tag)])


def unseal(secret_key: str, purpose: str, sealed: str) -> str | None:
    """The plain text, or None for anything that was not sealed with this key for this purpose."""
    try:
        version, nonce_text, cipher_text, tag_text = sealed.split(".")
        nonce, cipher, tag = _unb64(nonce_text), _unb64(cipher_text), _unb64(tag_text)
    except (ValueError, TypeError):
        return None
    if version != _VERSION or len(nonce) != _NONCE or not secret_key:
        return None
    if not hmac.compare_digest(tag, _tag(_key(secret_key, b"mac"), purpose, nonce, cipher)):
        return None
    data = bytes(a ^ b for a, b in zip(cipher, _keystream(_key(secret_key, b"enc"), nonce, len(cipher)), strict=True))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None
