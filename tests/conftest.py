import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tests/fakeweb.py and friends

from fakeweb import FakeWeb  # noqa: E402

from crawler.config import Settings  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def web():
    server = FakeWeb().start()
    yield server
    server.stop()


@pytest.fixture
def make_settings(tmp_path):
    def make(**kw) -> Settings:
        base = dict(db=tmp_path / "cache.db", reports=tmp_path / "reports", export=tmp_path / "papers.json",
                    retries=1, backoff_base=0.01, timeout=5.0, progress=False, arxiv_delay=0.0, arxiv_timeout=5.0)
        base.update(kw)
        return Settings(**base)

    return make
