"""crawler.net.credentials: one table says which credential may go to which host, and the pool's clients obey it."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import respx

from crawler.config import Settings
from crawler.net.credentials import (
    CROSSREF_MAILTO,
    GITHUB_TOKEN,
    OPENREVIEW_PASSWORD,
    OPENREVIEW_TOKEN,
    OPENREVIEW_USERNAME,
    TABLE,
    Credentials,
    Use,
    allowed,
    mailto_address,
)
from crawler.net.pool import ClientPool

ENV = {"GITHUB_TOKEN": "ghp_made_up_123", "OPENREVIEW_USERNAME": "reader@example.org",
       "OPENREVIEW_PASSWORD": "pw-made-up-456"}


def test_the_table_names_every_credential_once_with_its_hosts():
    assert [c.name for c in TABLE] == ["github-token", "openreview-username", "openreview-password",
                                       "openreview-token", "crossref-mailto"]
    assert GITHUB_TOKEN.hosts == {"github.com", "api.github.com"}
    assert OPENREVIEW_TOKEN.hosts == OPENREVIEW_PASSWORD.hosts == {"api.openreview.net", "api2.openreview.net"}
    assert CROSSREF_MAILTO.hosts == {"api.crossref.org"} and CROSSREF_MAILTO.use is Use.QUERY


@pytest.mark.parametrize(("url", "ok"), [
    ("https://api.github.com/graphql", True), ("https://github.com/a/b", True), ("http://github.com/a/b", False),
    ("https://github.com:8443/a/b", False), ("https://github.com.evil.example/", False),
    ("https://gist.github.com/a/1", False), ("https://raw.githubusercontent.com/a/b/c", False), ("not a url", False),
])
def test_the_github_token_goes_to_githubs_hosts_over_https_only(url, ok):
    assert allowed(GITHUB_TOKEN, url) is ok
    assert (Credentials.from_environment(environ=ENV).value(GITHUB_TOKEN, url) == ENV["GITHUB_TOKEN"]) is ok


def test_values_come_from_the_environment_and_the_contact_setting():
    creds = Credentials.from_environment(Settings(contact="mailto:lists@example.org"), environ={"GH_TOKEN": "g"})
    assert creds.value(GITHUB_TOKEN, "https://api.github.com/") == "g"
    assert creds.value(CROSSREF_MAILTO, "https://api.crossref.org/works") == "lists@example.org"
    assert creds.value(CROSSREF_MAILTO, "https://doi.org/api/handles/x") is None
    assert not creds.has(OPENREVIEW_USERNAME)
    assert mailto_address("https://github.com/o/r") is None and mailto_address("me@example.org") == "me@example.org"
    assert not Credentials.from_environment(Settings(), environ={}).has(CROSSREF_MAILTO)  # the default contact


def test_a_login_token_is_granted_for_one_of_its_hosts_only():
    creds = Credentials()
    creds.grant(OPENREVIEW_TOKEN, "api2.openreview.net", "tok-made-up")
    assert creds.value(OPENREVIEW_TOKEN, "https://api2.openreview.net/notes") == "tok-made-up"
    assert creds.value(OPENREVIEW_TOKEN, "https://api.openreview.net/notes") is None
    with pytest.raises(ValueError):
        creds.grant(OPENREVIEW_TOKEN, "openreview.net", "tok")
    creds.revoke(OPENREVIEW_TOKEN, "api2.openreview.net")
    assert creds.value(OPENREVIEW_TOKEN, "https://api2.openreview.net/notes") is None


def test_secrets_are_redacted_from_messages():
    creds = Credentials.from_environment(environ=ENV)
    creds.grant(OPENREVIEW_TOKEN, "api.openreview.net", "tok-made-up-789")
    text = "refused ghp_made_up_123 and pw-made-up-456 and tok-made-up-789"
    assert creds.redact(text) == "refused *** and *** and ***"


def test_the_pools_clients_attach_what_the_table_allows_and_nothing_else():
    creds = Credentials.from_environment(Settings(contact="mailto:lists@example.org"), environ=ENV)
    creds.grant(OPENREVIEW_TOKEN, "api2.openreview.net", "tok-made-up")
    seen: dict[str, tuple[str | None, str]] = {}

    def record(request: httpx.Request) -> httpx.Response:
        seen[f"{request.url.scheme}://{request.url.host}{request.url.path}"] = (
            request.headers.get("authorization"), request.url.query.decode())
        return httpx.Response(200, json={})

    urls = ["https://api.github.com/graphql", "https://api2.openreview.net/notes", "https://api.openreview.net/notes",
            "https://api.crossref.org/works", "https://doi.org/api/handles/10.1/x", "http://api.crossref.org/works",
            "https://example.org/page"]

    async def go():
        async with ClientPool(Settings(), credentials=creds) as pool:
            for url in urls:
                await pool.client(url).get(url)

    with respx.mock(using="httpx", assert_all_called=False) as mock:
        mock.route().mock(side_effect=record)
        asyncio.run(go())
    assert seen["https://api.github.com/graphql"] == ("Bearer ghp_made_up_123", "")
    assert seen["https://api2.openreview.net/notes"] == ("Bearer tok-made-up", "")
    assert seen["https://api.openreview.net/notes"] == (None, "")  # no login there, no token
    assert seen["https://api.crossref.org/works"] == (None, "mailto=lists%40example.org")
    assert seen["http://api.crossref.org/works"] == (None, "")
    assert seen["https://doi.org/api/handles/10.1/x"] == seen["https://example.org/page"] == (None, "")
    # The account itself is never attached to anything: only the OpenReview source's login body carries it.
    assert not any(ENV["OPENREVIEW_PASSWORD"] in str(v) for v in seen.values())


def test_a_url_with_user_information_still_gets_basic_auth():
    async def go():
        async with ClientPool(Settings(), credentials=Credentials()) as pool:
            return await pool.client("https://u:p@example.org/").get("https://u:p@example.org/")

    with respx.mock(using="httpx", assert_all_called=False) as mock:
        route = mock.route().respond(200)
        asyncio.run(go())
    assert route.calls.last.request.headers["authorization"] == "Basic dTpw"
