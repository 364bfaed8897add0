"""Where a webhook may go: https only, and only to public addresses (unless the setting allows
private ones), whatever a host name resolves to."""

from __future__ import annotations

import pytest

from award_jury.settings import Settings
from award_jury.webhooks.addresses import UrlRefused, check


def resolving_to(*found: str):  # type: ignore[no-untyped-def]
    async def resolve(host: str, port: int) -> list[str]:
        return list(found)

    return resolve


async def test_public_https_url_is_accepted_with_its_addresses() -> None:
    target = await check("https://crm.example.org:8443/hooks?x=1", resolver=resolving_to("93.184.215.14"))
    assert (target.host, target.port, target.addresses) == ("crm.example.org", 8443, ("93.184.215.14",))


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://crm.example.org/hooks", "scheme"),
        ("ftp://crm.example.org/hooks", "scheme"),
        ("https://", "invalid"),
        ("https://user:pw@crm.example.org/", "invalid"),
        ("https://crm.example.org:99999/", "invalid"),
        ("https://127.0.0.1/hooks", "private"),
        ("https://[::1]/hooks", "private"),
        ("https://10.1.2.3/", "private"),
        ("https://192.168.0.10/", "private"),
        ("https://172.16.5.4/", "private"),
        ("https://169.254.169.254/latest/meta-data", "private"),
        ("https://224.0.0.1/", "private"),
        ("https://0.0.0.0/", "private"),
        ("https://[fe80::1]/", "private"),
        ("https://[::ffff:127.0.0.1]/", "private"),
        ("https://100.64.0.1/", "private"),
    ],
)
async def test_refused_urls(url: str, code: str) -> None:
    with pytest.raises(UrlRefused) as refused:
        await check(url, resolver=resolving_to("93.184.215.14"))
    assert refused.value.code == code


async def test_name_resolving_to_any_private_address_is_refused() -> None:
    with pytest.raises(UrlRefused) as refused:
        await check("https://hooks.example.org/", resolver=resolving_to("93.184.215.14", "127.0.0.1"))
    assert (refused.value.code, refused.value.detail) == ("private", "127.0.0.1")


async def test_name_that_does_not_resolve_is_refused() -> None:
    async def nowhere(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    with pytest.raises(UrlRefused) as refused:
        await check("https://nowhere.example.org/", resolver=nowhere)
    assert refused.value.code == "unresolved"


async def test_setting_allows_private_addresses_but_not_http() -> None:
    target = await check("https://127.0.0.1:8443/", resolver=resolving_to(), allow_private=True)
    assert target.addresses == ("127.0.0.1",)
    with pytest.raises(UrlRefused):
        await check("http://127.0.0.1:8443/", allow_private=True)


def test_allow_private_setting_comes_from_the_environment() -> None:
    env = {"AWARD_JURY_SECRET_KEY": "x" * 20}
    assert Settings.from_env(env).webhooks_allow_private is False
    assert Settings.from_env(env | {"AWARD_JURY_WEBHOOKS_ALLOW_PRIVATE": "true"}).webhooks_allow_private is True
