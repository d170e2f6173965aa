"""The sources the crawler asks, one module each, behind crawler.sources.base's interface.

Adding a source is one module plus one line in REGISTRY: "module:Class", where the class is a
`PaperSource` or a `Verifier` with a `from_settings(settings, pool)` constructor. Modules are
imported when a run builds its sources, so `crawler report` pays for none of them.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crawler.config import Settings
    from crawler.net.pool import ClientPool
    from crawler.sources.base import PaperSource, Verifier

# Order matters where two sources could answer: the first paper source with a listing for an entry's
# venue fills it, and arXiv (which searches titles) is the fallback for every venue.
REGISTRY: tuple[str, ...] = (
    "crawler.sources.arxiv:ArxivSource",
    "crawler.sources.cvf:CvfSource",
    "crawler.sources.ecva:EcvaSource",
    "crawler.sources.neurips:NeuripsSource",
    "crawler.sources.pmlr:PmlrSource",
    "crawler.sources.acl:AclSource",
    "crawler.sources.github:GitHubVerifier",
    "crawler.sources.openreview:OpenReviewSource",
    "crawler.sources.crossref:CrossrefSource",
)


def build(settings: Settings, pool: ClientPool | None, registry: tuple[str, ...] = REGISTRY,
          ) -> list[PaperSource | Verifier]:
    sources = []
    for path in registry:
        module, _, name = path.partition(":")
        sources.append(getattr(import_module(module), name).from_settings(settings, pool))
    return sources
