"""OpenReview (openreview.net): links to its papers are `blocked`, judged without asking.

Since 2026 OpenReview's API answers anonymous clients with `403 ChallengeRequiredError`; it works for a
logged-in account only (shared/SOURCES.md). Its forum and pdf pages are rendered from that API, so a plain
GET can say nothing about a paper either way: a challenge or a 403 is not evidence that the paper is gone,
and a page shell served with 200 would not prove that it exists. The crawler cannot verify these links.

Hence a `Verifier`, not a `PaperSource` with `batch_verifies`: a paper source whose lookup raised
`SourceUnavailable` would leave the links unjudged (no verdict at all on a first run) and mark the source
unavailable in every report, as if it might answer tomorrow; a verifier gives every such link its verdict
now, `blocked` with the reason, without a single request. `blocked` is never `dead` (pipeline.can_die), so
these links never fail a run under the default `--fail-on dead`.

Only paper URLs are claimed (`/forum?id=`, `/pdf?id=`, `/pdf/<sha>.pdf`, `/attachment?id=`); group,
profile and venue pages go to the ordinary check. ICLR entries (and NeurIPS 2021+ entries without a
proceedings page) are filled from arXiv, never from OpenReview.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import parse_qs, urlsplit

from crawler.models import CheckResult, LinkStatus
from crawler.sources.base import Claim, Verification, Verifier

if TYPE_CHECKING:
    from crawler.config import Settings
    from crawler.net import ClientPool

SOURCE = "openreview"
_HOSTS = frozenset({"openreview.net", "www.openreview.net"})
_BY_ID = frozenset({"/forum", "/pdf", "/attachment"})  # paper pages and files named by ?id=
REASON = (
    "openreview.net cannot be verified without an account: its API answers anonymous clients with "
    "403 ChallengeRequiredError (since 2026)"
)


def names_paper(url: str) -> bool:
    """Whether `url` is an OpenReview paper: forum, pdf (by id or by hash) or attachment. Pure."""
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
    except ValueError:
        return False
    if parts.scheme.lower() not in ("http", "https") or host not in _HOSTS:
        return False
    path = parts.path.rstrip("/") or "/"
    if path in _BY_ID:
        return any(v.strip() for v in parse_qs(parts.query).get("id", []))
    return path.startswith("/pdf/") and path.lower().endswith(".pdf")


class OpenReviewSource(Verifier):
    """Judges OpenReview paper links `blocked` without fetching them (see the module docstring)."""

    name: ClassVar[str] = SOURCE
    claimed_hosts = _HOSTS

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock

    @classmethod
    def from_settings(cls, settings: Settings, pool: ClientPool | None) -> OpenReviewSource:
        return cls()

    def claims(self, url: str) -> bool:
        return names_paper(url)

    async def verify_all(self, claims: Sequence[Claim]) -> Verification:
        now = self._clock()
        return Verification(
            results={
                claim.key: CheckResult(url=claim.key, status=LinkStatus.BLOCKED, error=REASON, checked_at=now)
                for claim in claims
            }
        )
