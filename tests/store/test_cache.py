import sqlite3

import pytest

from crawler.errors import StoreError
from crawler.models import CheckResult, Hop, LinkStatus, PaperMeta
from crawler.store.cache import SCHEMA_VERSION, Store, paper_key


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "cache.db") as s:
        yield s


def result(url, status=LinkStatus.OK, at=1000.0, **kw):
    return CheckResult(url=url, status=status, checked_at=at, **kw)


def test_schema_version_is_recorded(store):
    assert store.schema_version() == SCHEMA_VERSION
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_fresh_results_respect_max_age(store):
    store.save_results([result("https://a.org/", at=1000.0), result("https://b.org/", at=100.0)])
    fresh = store.fresh_results(["https://a.org/", "https://b.org/", "https://c.org/"], now=1500.0, max_age=600)
    assert set(fresh) == {"https://a.org/"}
    assert fresh["https://a.org/"].from_cache


def test_transient_failures_are_never_fresh(store):
    store.save_results([result("https://t.org/", LinkStatus.TIMEOUT), result("https://s.org/", LinkStatus.SERVER_ERROR),
                        result("https://b.org/", LinkStatus.BROKEN)])
    fresh = store.fresh_results(["https://t.org/", "https://s.org/", "https://b.org/"], now=1001.0, max_age=600)
    assert set(fresh) == {"https://b.org/"}


def test_round_trip_keeps_redirect_chain_and_validators(store):
    r = result("http://x.org/", LinkStatus.REDIRECTED, http_status=200, final_url="https://x.org/",
               redirects=(Hop("http://x.org/", 301),), etag='"abc"', suggestion="https://x.org/")
    store.save_results([r])
    back = store.cached_results(["http://x.org/"])["http://x.org/"]
    assert back.redirects == (Hop("http://x.org/", 301),)
    assert (back.status, back.final_url, back.etag, back.suggestion) == (
        LinkStatus.REDIRECTED, "https://x.org/", '"abc"', "https://x.org/")
    assert store.validators(["http://x.org/"]) == {"http://x.org/": ('"abc"', None)}


def test_second_run_on_the_same_cache_is_refused(tmp_path):
    with Store(tmp_path / "c.db"), pytest.raises(StoreError, match="another crawler run"):
        Store(tmp_path / "c.db")
    with Store(tmp_path / "c.db") as again:  # released once the first closes
        assert again.schema_version() == SCHEMA_VERSION


def test_a_file_that_is_not_sqlite_is_a_clear_error_and_is_left_alone(tmp_path):
    path = tmp_path / "cache.db"
    path.write_bytes(b"this is not a database at all" * 100)
    before = path.read_bytes()
    with pytest.raises(StoreError, match="not a usable SQLite database"):
        Store(path)
    assert path.read_bytes() == before


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "c.db"
    with Store(path) as s:
        s.db["meta"].upsert({"key": "schema_version", "value": str(SCHEMA_VERSION + 1)}, pk="key")
    with pytest.raises(StoreError, match="newer than this crawler"):
        Store(path)


def test_migration_from_an_empty_database(tmp_path):
    path = tmp_path / "old.db"
    sqlite3.connect(path).close()
    with Store(path) as s:
        assert {"results", "history", "runs", "papers", "lookups", "meta"} <= set(s.db.table_names())


def test_papers_and_lookups(store):
    meta = PaperMeta(source="arxiv", title="Born Again Neural Networks", url="https://arxiv.org/abs/1805.04770",
                     abstract="We study...", authors=("Tommaso Furlanello",), year=2018, arxiv_id="1805.04770",
                     fetched_at=5.0)
    store.save_papers([meta])
    assert paper_key(meta) == "arxiv:1805.04770"
    assert store.paper("arxiv:1805.04770") == meta
    store.save_lookups({"arxiv-id:1805.04770": {"key": "arxiv:1805.04770"}}, now=100.0)
    assert store.lookup("arxiv-id:1805.04770", now=150.0, max_age=60) == {"key": "arxiv:1805.04770"}
    assert store.lookup("arxiv-id:1805.04770", now=200.0, max_age=60) is None
