"""crawler.sources.openreview: OpenReview paper links are claimed and judged `blocked`, never fetched."""

from __future__ import annotations

import asyncio

import pytest
import respx

from crawler.config import Settings
from crawler.models import Entry, Link, LinkStatus
from crawler.sources.base import Claim, Verifier
from crawler.sources.openreview import REASON, OpenReviewSource, names_paper

FORUM = "https://openreview.net/forum?id=rJl-b3RcF7"


@pytest.mark.parametrize(
    "url",
    [
        FORUM,
        "https://openreview.net/forum?id=H1oyRlYgg&noteId=H1oyRlYgg",
        "https://openreview.net/pdf?id=rJl-b3RcF7",
        "http://www.openreview.net/pdf?id=B1ckMDqlg",
        "https://openreview.net/pdf/fed763a30898a94daf0c79a480b698875f2cf105.pdf",
        "https://openreview.net/attachment?id=rJl-b3RcF7&name=supplementary_material",
        "https://OpenReview.net/forum/?id=rJl-b3RcF7",
    ],
)
def test_paper_links_are_claimed(url: str):
    assert names_paper(url) and OpenReviewSource().claims(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://openreview.net/",
        "https://openreview.net/forum",  # no id: not a paper
        "https://openreview.net/forum?id=",
        "https://openreview.net/group?id=ICLR.cc/2024/Conference",
        "https://openreview.net/profile?id=~Geoffrey_Hinton1",
        "https://api.openreview.net/notes?id=rJl-b3RcF7",  # the API itself: the ordinary check
        "https://openreview.net.example.org/forum?id=rJl-b3RcF7",
        "ftp://openreview.net/forum?id=rJl-b3RcF7",
        "https://arxiv.org/abs/1810.04805",
        "not a url",
    ],
)
def test_everything_else_goes_to_the_ordinary_check(url: str):
    assert not OpenReviewSource().claims(url)


def test_claimed_links_are_blocked_with_the_reason_and_no_request():
    entry = Entry(line=3, section="ICLR", title="Deep Graph Infomax", venue="ICLR", year=2019,
                  links=(Link(url=FORUM, label="paper", line=3),))
    claims = [
        Claim(key="openreview.net/forum?id=rjl-b3rcf7", url=FORUM, entries=(entry,)),
        Claim(key="openreview.net/pdf?id=b1ckmdqlg", url="http://www.openreview.net/pdf?id=B1ckMDqlg"),
    ]
    source = OpenReviewSource(clock=lambda: 1234.5)
    with respx.mock(assert_all_called=False) as router:
        router.route().respond(403, json={"name": "ChallengeRequiredError"})
        verification = asyncio.run(source.verify_all(claims))
        assert router.calls.call_count == 0  # nothing is asked: the answer is known
    assert set(verification.results) == {c.key for c in claims} and not verification.to_web
    for claim in claims:
        result = verification.results[claim.key]
        assert result.url == claim.key and result.status is LinkStatus.BLOCKED  # the cache key, as every verdict
        assert result.error == REASON and "account" in REASON and result.checked_at == 1234.5
        assert not result.status.can_die  # blocked is never dead: the default --fail-on dead never fails on it
    assert verification.requests == 0 and source.requests_sent == 0


def test_built_from_settings_as_a_verifier():
    source = OpenReviewSource.from_settings(Settings(), None)
    assert isinstance(source, Verifier) and source.name == "openreview"
    assert asyncio.run(source.verify_all([])).results == {}
