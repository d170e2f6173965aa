import sqlite3

import pytest

from crawler.errors import StoreError
from crawler.models import CheckResult, Hop, LinkStatus, PaperMeta, RepoInfo
from crawler.store.cache import STEPS, Store, paper_key


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "cache.db") as s:
        yield s


def result(url, status=LinkStatus.OK, at=1000.0, **kw):
    return CheckResult(url=url, status=status, checked_at=at, **kw)


def test_every_schema_step_is_recorded(store):
    assert store.applied_migrations() == list(STEPS)
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
        assert again.applied_migrations() == list(STEPS)


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
        s.db["_sqlite_migrations"].insert({"migration_set": "crawler-cache", "name": "m999_from_the_future",
                                           "applied_at": "2031-01-01 00:00:00+00:00"})
    with pytest.raises(StoreError, match="newer than this crawler"):
        Store(path)


def test_migration_from_an_empty_database(tmp_path):
    path = tmp_path / "old.db"
    sqlite3.connect(path).close()
    with Store(path) as s:
        assert {"results", "history", "runs", "papers", "lookups", "repos"} <= set(s.db.table_names())
        assert s.applied_migrations() == list(STEPS)


# -- caches written before the schema's steps were recorded --------------------------------------------------
# The tables as the crawler created them then (sqlite-utils' DDL), with the version in `meta`: 1 before results
# had notes and paper evidence and before repos were kept, 2 after.
SCHEMA_1 = """
CREATE TABLE "results" ("url" TEXT PRIMARY KEY, "status" TEXT, "http_status" INTEGER, "final_url" TEXT,
  "error" TEXT, "redirects" TEXT, "checked_at" REAL, "etag" TEXT, "last_modified" TEXT, "suggestion" TEXT);
CREATE TABLE "history" ("url" TEXT PRIMARY KEY, "first_seen" REAL, "last_ok" REAL, "first_failed" REAL,
  "consecutive_failures" INTEGER, "last_status" TEXT, "last_checked" REAL, "last_run" INTEGER);
CREATE TABLE "runs" ("id" INTEGER PRIMARY KEY, "started_at" REAL, "finished_at" REAL, "command" TEXT, "list" TEXT,
  "total" INTEGER, "ok" INTEGER, "failing" INTEGER, "new" INTEGER, "dead" INTEGER, "fixed" INTEGER,
  "filled" INTEGER, "counts" TEXT);
CREATE TABLE "papers" ("key" TEXT PRIMARY KEY, "source" TEXT, "title" TEXT, "url" TEXT, "abstract" TEXT,
  "authors" TEXT, "year" INTEGER, "venue" TEXT, "arxiv_id" TEXT, "pdf_url" TEXT, "fetched_at" REAL);
CREATE TABLE "lookups" ("key" TEXT PRIMARY KEY, "fetched_at" REAL, "answer" TEXT);
CREATE TABLE "meta" ("key" TEXT PRIMARY KEY, "value" TEXT);
INSERT INTO meta VALUES ('schema_version', '1');
INSERT INTO results VALUES ('http://x.org/', 'redirected', 200, 'https://x.org/', NULL, '[["http://x.org/", 301]]',
  1000.0, '"abc"', NULL, 'https://x.org/');
INSERT INTO history VALUES ('http://x.org/', 10.0, 1000.0, NULL, 0, 'redirected', 1000.0, 3);
INSERT INTO runs VALUES (3, 990.0, 1010.0, 'run', 'README.md', 1, 1, 0, 0, 0, 0, 0, '{"redirected": 1}');
INSERT INTO papers VALUES ('arxiv:1805.04770', 'arxiv', 'Born Again Neural Networks',
  'https://arxiv.org/abs/1805.04770', 'We study...', '["Tommaso Furlanello"]', 2018, NULL, '1805.04770', NULL, 5.0);
INSERT INTO lookups VALUES ('arxiv-id:1805.04770', 100.0, '{"key": "arxiv:1805.04770"}');
"""
SCHEMA_2 = SCHEMA_1.replace("'schema_version', '1'", "'schema_version', '2'") + """
ALTER TABLE results ADD COLUMN "note" TEXT;
ALTER TABLE results ADD COLUMN "title_score" REAL;
ALTER TABLE results ADD COLUMN "authors_matched" INTEGER;
CREATE TABLE "repos" ("url" TEXT PRIMARY KEY, "name_with_owner" TEXT, "stars" INTEGER, "archived" INTEGER,
  "pushed_at" TEXT, "checked_at" REAL);
UPDATE results SET note = 'moved', title_score = 0.97, authors_matched = 1;
INSERT INTO repos VALUES ('https://github.com/o/r', 'o/r', 42, 0, '2024-01-01T00:00:00Z', 7.0);
"""


def old_cache(path, script):
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(script)
    conn.close()
    return path


@pytest.mark.parametrize("script", [SCHEMA_1, SCHEMA_2], ids=["schema 1", "schema 2"])
def test_an_old_cache_opens_migrated_with_everything_in_it(tmp_path, script):
    with Store(old_cache(tmp_path / "old.db", script)) as s:
        assert s.applied_migrations() == list(STEPS)
        assert "meta" not in s.db.table_names()  # the hand-kept version is gone with its job
        back = s.cached_results(["http://x.org/"])["http://x.org/"]
        assert (back.status, back.final_url, back.redirects, back.etag, back.suggestion, back.checked_at) == (
            LinkStatus.REDIRECTED, "https://x.org/", (Hop("http://x.org/", 301),), '"abc"', "https://x.org/", 1000.0)
        assert s.history(["http://x.org/"])["http://x.org/"]["last_run"] == 3
        assert [r["id"] for r in s.runs()] == [3]
        assert s.paper("arxiv:1805.04770").authors == ("Tommaso Furlanello",)
        assert s.lookup("arxiv-id:1805.04770", now=150.0, max_age=60) == {"key": "arxiv:1805.04770"}
        # What schema 2 added is there, kept from a schema-2 cache, and takes new values.
        if script is SCHEMA_2:
            assert (back.note, back.title_score, back.authors_matched) == ("moved", 0.97, True)
            assert s.repos(["https://github.com/o/r"])["https://github.com/o/r"].stars == 42
        else:
            assert (back.note, back.title_score, back.authors_matched) == (None, None, None)
        s.save_results([result("https://y.org/", LinkStatus.WRONG_PAPER, note="another paper", title_score=0.2,
                               authors_matched=False)])
        s.save_repos({"https://github.com/o/s": RepoInfo("o/s", 1, True, None, 8.0)})
    with Store(tmp_path / "old.db") as again:  # opened again: nothing left to take, nothing lost
        assert again.applied_migrations() == list(STEPS)
        saved = again.cached_results(["https://y.org/"])["https://y.org/"]
        assert (saved.status, saved.note, saved.title_score, saved.authors_matched) == (
            LinkStatus.WRONG_PAPER, "another paper", 0.2, False)
        assert again.repos(["https://github.com/o/s"])["https://github.com/o/s"].archived


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
