"""Blank out the arXiv links of real lists and let the crawler find them again.

For each corpus list, every paper entry with one arXiv link becomes a catalogue entry of a fake
arXiv (its title re-cased as arXiv and CVF write titles), its link is blanked to `()`, and the
enrichment stage must fill it. The other entries of the same list are the distractors: paper
lists are full of near-identical titles. Recovery should be nearly complete and wrong fills zero.
"""

import asyncio
import re
from pathlib import Path

import pytest

from crawler.config import Settings
from crawler.listfile import rewrite
from crawler.listfile.parse import parse_list
from crawler.papers.enrich import Enricher
from crawler.sources.arxiv import ArxivSource, abs_url, parse_arxiv_id
from crawler.sources.gateway import SourceSet
from crawler.store.cache import Store
from tests import paths
from tests.fakes.sites import FakeArxiv, make_entry

pytestmark = pytest.mark.corpus

CORPUS = paths.CORPUS
LISTS = sorted(CORPUS.glob("*.md")) if CORPUS.is_dir() else []


def arxiv_cased(title: str) -> str:
    # CVF and arXiv capitalise their own way; the list's casing must not matter.
    return re.sub(r"\b([a-z])", lambda m: m.group(1).upper(), title)


def blank_out(text: str, targets: dict[int, str]) -> str:
    lines = text.splitlines(keepends=True)
    for line_no, url in targets.items():
        line = lines[line_no - 1]
        for written in (f"({url})", f"( {url})", f"({url} )"):
            line = line.replace(written, "()")
        lines[line_no - 1] = line.replace(f'href="{url}"', 'href=""')
    return "".join(lines)


def evaluate(path: Path, web, tmp_path) -> dict:
    text = path.read_bytes().decode("utf-8")
    parsed = parse_list(text)
    originals: dict[int, str] = {}  # line -> versionless id
    urls: dict[int, str] = {}
    catalogue = {}
    for entry in parsed.entries:
        ids = [(lk, parse_arxiv_id(lk.url)) for lk in entry.links if lk.url and parse_arxiv_id(lk.url)]
        if len(ids) != 1 or not entry.is_paper or len(entry.title.split()) < 3 or "/" in ids[0][1]:
            continue
        link, arxiv_id = ids[0]
        if link.line != entry.line:
            continue
        year = 2000 + int(arxiv_id[:2])
        catalogue.setdefault(arxiv_id, make_entry(arxiv_id, arxiv_cased(entry.title), year))
        originals[entry.line] = arxiv_id
        urls[entry.line] = link.url
    blanked_text = blank_out(text, urls)
    blanked = parse_list(blanked_text)
    api = FakeArxiv(list(catalogue.values()))
    web.host("127.0.0.1", api)
    settings = Settings(db=tmp_path / f"{path.stem}.db", arxiv_delay=0, arxiv_timeout=10)
    arxiv = ArxivSource(url_format=f"http://127.0.0.1:{web.port}/api/query?{{}}", delay=0, timeout=10)

    async def enrich(parsed):
        with Store(settings.db) as store:  # the second pass is answered from this cache
            # arXiv alone: the experiment is about arXiv, so no venue listing answers first.
            sources = SourceSet([arxiv], store, now=0.0, max_age=settings.metadata_max_age)
            return await Enricher(sources).enrich(parsed, {})

    enrichment = asyncio.run(enrich(blanked))
    filled = {f.line: f.url for f in enrichment.fills}
    right = sum(1 for line, i in originals.items() if filled.get(line) == abs_url(i))
    wrong = [(line, filled[line], originals[line]) for line in originals if line in filled
             and filled[line] != abs_url(originals[line])]
    return {"blanked": len(originals), "recovered": right, "wrong": wrong, "queries": len(api.queries),
            "text": blanked_text, "parsed": blanked, "enrichment": enrichment, "enrich": enrich}


@pytest.mark.skipif(not LISTS, reason="corpus not present (set CRAWLER_CORPUS)")
@pytest.mark.parametrize("path", LISTS, ids=[p.name.split("__")[0] for p in LISTS])
def test_blanked_arxiv_links_come_back_with_no_wrong_fill(path, web, tmp_path):
    got = evaluate(path, web, tmp_path)
    print(f"\n{path.name}: blanked {got['blanked']}, recovered {got['recovered']}, wrong {len(got['wrong'])}, "
          f"arXiv requests {got['queries']}")
    assert got["wrong"] == []
    if got["blanked"] >= 10:  # fewer says little: ChaofWang's table names models ("RBPN"), not titles
        assert got["recovered"] / got["blanked"] >= 0.9


@pytest.mark.skipif(not LISTS, reason="corpus not present (set CRAWLER_CORPUS)")
@pytest.mark.parametrize("path", LISTS, ids=[p.name.split("__")[0] for p in LISTS])
def test_writing_back_changes_only_filled_lines_and_is_idempotent(path, web, tmp_path):
    got = evaluate(path, web, tmp_path)
    text, parsed, enrichment = got["text"], got["parsed"], got["enrichment"]
    filled = rewrite.apply(text, parsed, enrichment)
    old, new = text.splitlines(keepends=True), filled.splitlines(keepends=True)
    assert len(old) == len(new)
    changed = {i + 1 for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b}
    assert changed <= {f.line for f in enrichment.fills}
    assert filled.endswith(("\n", "\r\n")) == text.endswith(("\n", "\r\n"))  # a final newline stays as it was
    # With abstracts: the same fills, plus marked blocks and nothing else.
    with_abstracts = rewrite.apply(text, parsed, enrichment, abstracts=True)
    assert strip_blocks(with_abstracts) == filled
    # A second run over its own output changes nothing.
    again = parse_list(with_abstracts)
    second = asyncio.run(got["enrich"](again))
    assert rewrite.apply(with_abstracts, again, second, abstracts=True) == with_abstracts


def strip_blocks(text: str) -> str:
    out, skipping = [], False
    lines = text.splitlines(keepends=True)
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.strip() == rewrite.MARK_OPEN:
            skipping = True
        if not skipping:
            out.append(line)
        elif line.strip() == rewrite.MARK_CLOSE:
            skipping = False
            if i + 1 < len(lines) and not lines[i + 1].strip():
                i += 1  # the blank line that ends the block
        i += 1
    return "".join(out)
