"""The source interface: a source that lacks a method its kind must have fails when it is built, not in the
middle of a run; the optional hooks have defaults that say "nothing of the kind here"."""

from __future__ import annotations

import asyncio
from importlib import import_module

import pytest

from crawler.models import PaperMeta
from crawler.sources import REGISTRY
from crawler.sources.base import Claim, PaperRef, PaperSource, Verification, Verifier
from crawler.sources.pages import SiteSource

PAPER = PaperMeta(source="minimal", title="A Paper", url="https://minimal.example/1")


class Minimal(PaperSource):
    """Only what every paper source must have."""

    name = "minimal"

    def ref(self, url: str) -> PaperRef | None:
        return PaperRef(self.name, url) if url.startswith("https://minimal.example/") else None

    async def lookup(self, ref: PaperRef) -> PaperMeta | None:
        return PAPER if ref.id == PAPER.url else None


def test_a_paper_source_without_lookup_fails_when_built():
    class NoLookup(PaperSource):
        name = "no-lookup"

        def ref(self, url: str) -> PaperRef | None:
            return None

    with pytest.raises(TypeError, match="lookup"):
        NoLookup()


def test_a_paper_source_without_ref_fails_when_built():
    class NoRef(PaperSource):
        name = "no-ref"

        async def lookup(self, ref: PaperRef) -> PaperMeta | None:
            return None

    with pytest.raises(TypeError, match="ref"):
        NoRef()


def test_a_site_source_without_lookup_fails_when_built():
    class Site(SiteSource):
        name = "site"
        default_base = "https://site.example"
        hosts = frozenset({"site.example"})

        def ref(self, url: str) -> PaperRef | None:
            return None

    with pytest.raises(TypeError, match="lookup"):
        Site(None)


def test_a_verifier_without_verify_all_fails_when_built():
    class NoVerifyAll(Verifier):
        name = "no-verify-all"

        def claims(self, url: str) -> bool:
            return False

    with pytest.raises(TypeError, match="verify_all"):
        NoVerifyAll()


def test_a_complete_verifier_is_built():
    class Nothing(Verifier):
        name = "nothing"

        def claims(self, url: str) -> bool:
            return False

        async def verify_all(self, claims) -> Verification:
            return Verification()

    assert asyncio.run(Nothing().verify_all([])) == Verification()


def test_the_optional_hooks_default_to_nothing_of_the_kind():
    source = Minimal()
    assert source.lists("CVPR", 2020) is False
    assert asyncio.run(source.listing("CVPR", 2020)) is None
    assert asyncio.run(source.search(["A Paper"])) == {}
    assert asyncio.run(source.abstract(PAPER)) is PAPER
    assert source.venue_key("CVPR") is None  # it lists no venue
    assert source.claim_ref(Claim(PAPER.url, PAPER.url)) == PaperRef("minimal", PAPER.url)
    # lookup_all asks one by one by default
    refs = [PaperRef("minimal", PAPER.url), PaperRef("minimal", "https://minimal.example/2")]
    assert asyncio.run(source.lookup_all(refs)) == {PAPER.url: PAPER, "https://minimal.example/2": None}


@pytest.mark.parametrize("path", REGISTRY)
def test_every_registered_source_has_every_method_its_kind_needs(path):
    module, _, name = path.partition(":")
    cls = getattr(import_module(module), name)
    assert issubclass(cls, PaperSource | Verifier)
    assert not cls.__abstractmethods__
