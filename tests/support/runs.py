"""A whole run in the test's process: the pipeline with arXiv and CVF over the loopback web of tests/fakes/sites.

The client pool is the one users run (aiohttp under httpx), routed to the fake web by RoutingTransport.
github.com's built-in spacing (a second between page loads) is set aside: these runs are not about pacing
(tests/net/test_pacing.py is), and the seed list's two github.com links would cost a second a run.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

from crawler.config import HostRule, Settings
from crawler.net.pool import ClientPool
from crawler.pipeline import Job, Pipeline
from crawler.report import export
from crawler.sources.arxiv import ArxivSource
from crawler.sources.cvf import CvfSource
from crawler.store.cache import Store
from tests import paths
from tests.fakes.web import FakeWeb, RoutingTransport

SEED = paths.SEED
CVF = "https://openaccess.thecvf.com"
UNPACED = {"github.com": HostRule(spacing=0.0)}


def run(settings: Settings, web: FakeWeb, list_path: Path, command: str = "run"):
    """`crawler <command> list_path` against `web` (tests/fakes/sites.install), its Outcome."""
    settings = dataclasses.replace(settings, hosts={**UNPACED, **settings.hosts})

    async def go():
        async with ClientPool(settings, transport_factory=lambda limits: RoutingTransport(web.port, limits)) as pool:
            arxiv = ArxivSource(url_format=f"http://127.0.0.1:{web.port}/api/query?{{}}", delay=0, timeout=5)
            cvf = CvfSource(pool.client(CVF), base=CVF)
            with Store(settings.db) as store:
                return await Pipeline(settings, store, pool=pool, sources=[arxiv, cvf]).execute(Job(command, list_path))

    return asyncio.run(go())


def papers_of(outcome) -> list[dict]:
    return export.records(outcome.report, outcome.parsed, outcome.enrichment, outcome.repos)
