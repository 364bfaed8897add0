"""Webhook messages are signed as the Standard Webhooks specification says: the reference
library (``standardwebhooks``) accepts them, and rejects them after any change."""

from __future__ import annotations

import base64
import time

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from award_jury.webhooks import signing


def test_signed_message_verifies_with_the_reference_library() -> None:
    secret = signing.new_secret()
    body = '{"type":"entry.submitted","timestamp":"2026-12-02T15:00:00Z","data":{"entry":{"ref":"E001"}}}'
    headers = signing.headers(secret, "msg_abc", int(time.time()), body)
    assert Webhook(secret).verify(body, headers) == {
        "type": "entry.submitted",
        "timestamp": "2026-12-02T15:00:00Z",
        "data": {"entry": {"ref": "E001"}},
    }


@pytest.mark.parametrize("change", ["body", "id", "timestamp", "secret"])
def test_signature_fails_after_any_change(change: str) -> None:
    secret, body, now = signing.new_secret(), '{"type":"round.finalised"}', int(time.time())
    headers = signing.headers(secret, "msg_1", now, body)
    if change == "body":
        body = '{"type":"round.finalised "}'
    elif change == "id":
        headers["webhook-id"] = "msg_2"
    elif change == "timestamp":
        headers["webhook-timestamp"] = str(now - 1)
    else:
        secret = signing.new_secret()
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, headers)


def test_secret_is_whsec_and_32_random_bytes() -> None:
    one, two = signing.new_secret(), signing.new_secret()
    assert one.startswith("whsec_") and one != two
    assert len(base64.b64decode(one.removeprefix("whsec_"))) == 32
    assert signing.new_message_id() != signing.new_message_id()
