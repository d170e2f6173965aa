"""The SQLite cache (sqlite-utils): link results, run history, paper metadata.

Policy in one sentence: results are keyed by normalised URL with their check time and reused
while younger than --max-age, except transient failures, which are recorded for history but
never served as a fresh answer.
"""

from __future__ import annotations

import fcntl
import json
import sqlite3
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path

import sqlite_utils
from sqlite_utils import Migrations

from crawler.errors import StoreError
from crawler.models import CheckResult, Hop, LinkStatus, PaperMeta, RepoInfo

# The schema, one step at a time (sqlite-utils' Migrations records each step applied in _sqlite_migrations).
# Caches written before the steps were recorded kept their version in a `meta` table: every step creates only
# what is missing, so such a cache, at whatever version, takes the steps it lacks and records them all.
MIGRATIONS = Migrations("crawler-cache")


@MIGRATIONS()
def m001_tables(db: sqlite_utils.Database) -> None:
    db["results"].create(
        {"url": str, "status": str, "http_status": int, "final_url": str, "error": str, "redirects": str,
         "checked_at": float, "etag": str, "last_modified": str, "suggestion": str},
        pk="url", if_not_exists=True,
    )
    db["history"].create(
        {"url": str, "first_seen": float, "last_ok": float, "first_failed": float, "consecutive_failures": int,
         "last_status": str, "last_checked": float, "last_run": int},
        pk="url", if_not_exists=True,
    )
    db["runs"].create(
        {"id": int, "started_at": float, "finished_at": float, "command": str, "list": str, "total": int,
         "ok": int, "failing": int, "new": int, "dead": int, "fixed": int, "filled": int, "counts": str},
        pk="id", if_not_exists=True,
    )
    db["papers"].create(
        {"key": str, "source": str, "title": str, "url": str, "abstract": str, "authors": str, "year": int,
         "venue": str, "arxiv_id": str, "pdf_url": str, "fetched_at": float},
        pk="key", if_not_exists=True,
    )
    db["lookups"].create(  # a question asked of a source and when: "arxiv-id:1503.02531", "cvf:CVPR2019"
        {"key": str, "fetched_at": float, "answer": str},
        pk="key", if_not_exists=True,
    )


@MIGRATIONS()
def m002_evidence_and_repos(db: sqlite_utils.Database) -> None:
    # A result's note and the evidence of a paper check (title score, authors matched); what GitHub says of
    # the repositories a list links to.
    for column, kind in (("note", str), ("title_score", float), ("authors_matched", int)):
        if column not in db["results"].columns_dict:
            db["results"].add_column(column, kind)
    db["repos"].create(
        {"url": str, "name_with_owner": str, "stars": int, "archived": int, "pushed_at": str, "checked_at": float},
        pk="url", if_not_exists=True,
    )


@MIGRATIONS()
def m003_drop_meta(db: sqlite_utils.Database) -> None:
    # The hand-kept version (`meta.schema_version`, 1 or 2) of caches from before; _sqlite_migrations holds it now.
    if db["meta"].exists():
        db["meta"].drop()


# Every step's name, in order: what an empty database has pending.
STEPS = tuple(m.name for m in MIGRATIONS.pending(sqlite_utils.Database(memory=True)))


class Store:
    def __init__(self, path: Path | str, *, lock: bool = True):
        self.path = Path(path)
        self._lock_fh = None
        try:
            if str(path) != ":memory:":
                self.path.parent.mkdir(parents=True, exist_ok=True)
                if lock:
                    self._lock()
            conn = sqlite3.connect(str(path), timeout=10, isolation_level=None)
            self.db = sqlite_utils.Database(conn)
            self.db.enable_wal()  # readers never block the writer; a crash loses no commit
            self.db.execute("PRAGMA synchronous=NORMAL")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            self.close()
            raise StoreError(
                f"cache {path} is not a usable SQLite database ({exc}); move it away or pass --db"
            ) from None
        except OSError as exc:
            self.close()
            raise StoreError(f"cannot open cache {path}: {exc.strerror or exc}") from None

    def _lock(self) -> None:
        lock_path = self.path.with_name(self.path.name + ".lock")
        self._lock_fh = open(lock_path, "a+")  # noqa: SIM115 - held for the store's lifetime
        try:
            fcntl.flock(self._lock_fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_fh.close()
            self._lock_fh = None
            raise StoreError(f"another crawler run is using {self.path}; wait for it or pass another --db") from None

    def _migrate(self) -> None:
        unknown = [name for name in self.applied_migrations() if name not in STEPS]
        if unknown:
            raise StoreError(f"cache {self.path} has schema steps newer than this crawler ({', '.join(unknown)}); "
                             "upgrade the crawler or pass another --db")
        MIGRATIONS.apply(self.db)

    def applied_migrations(self) -> list[str]:
        """The schema steps this cache has taken, in order."""
        return [m.name for m in MIGRATIONS.applied(self.db)]

    def close(self) -> None:
        db = getattr(self, "db", None)
        if db is not None:
            db.conn.close()
            self.db = None
        if self._lock_fh is not None:
            fcntl.flock(self._lock_fh, fcntl.LOCK_UN)
            self._lock_fh.close()
            self._lock_fh = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- link results ---------------------------------------------------------------------------
    def _rows_by(self, table: str, column: str, values: Iterable[str], where: str = "",
                 params: tuple = ()) -> dict[str, dict]:
        """Rows of `table` whose primary key `column` is one of `values`, a few hundred per query
        (SQLite caps bound parameters)."""
        values = list(dict.fromkeys(values))
        out: dict[str, dict] = {}
        for i in range(0, len(values), 500):
            chunk = values[i : i + 500]
            sql = f"SELECT * FROM {table} WHERE {column} IN ({','.join('?' * len(chunk))}){where}"
            for row in self.db.query(sql, [*chunk, *params]):
                out[row[column]] = row
        return out

    def _rows_by_url(self, table: str, urls: Iterable[str], where: str = "", params: tuple = ()) -> dict[str, dict]:
        return self._rows_by(table, "url", urls, where, params)

    def fresh_results(self, urls: Iterable[str], now: float, max_age: float) -> dict[str, CheckResult]:
        """Cached results young enough to reuse. Transient failures never count as fresh."""
        transient = tuple(s.value for s in LinkStatus if s.is_transient)
        where = f" AND checked_at >= ? AND status NOT IN ({','.join('?' * len(transient))})"
        rows = self._rows_by_url("results", urls, where, (now - max_age, *transient))
        return {url: _row_to_result(row) for url, row in rows.items()}

    def cached_results(self, urls: Iterable[str]) -> dict[str, CheckResult]:
        """Whatever is stored, however old (for --offline and `report`)."""
        return {url: _row_to_result(row) for url, row in self._rows_by_url("results", urls).items()}

    def validators(self, urls: Iterable[str]) -> dict[str, tuple[str | None, str | None]]:
        rows = self._rows_by_url("results", urls)
        return {url: (r["etag"], r["last_modified"]) for url, r in rows.items() if r["etag"] or r["last_modified"]}

    def save_results(self, results: Iterable[CheckResult]) -> None:
        rows = [_result_to_row(r) for r in results]
        if rows:
            # One executemany of an upsert: sqlite-utils' upsert_all costs three times as much per row.
            with self.db.atomic():
                self.db.conn.executemany(_SAVE_RESULT, rows)

    # -- history --------------------------------------------------------------------------------
    def history(self, urls: Iterable[str]) -> dict[str, dict]:
        return self._rows_by_url("history", urls)

    def save_history(self, rows: list[dict]) -> None:
        if rows:
            with self.db.atomic():
                self.db["history"].upsert_all(rows, pk="url")

    def add_run(self, row: dict) -> int:
        with self.db.atomic():
            return self.db["runs"].insert(row).last_pk

    def runs(self, limit: int = 60) -> list[dict]:
        rows = list(self.db.query("SELECT * FROM runs ORDER BY id DESC LIMIT ?", [limit]))
        return list(reversed(rows))

    # -- repositories (what GitHub said of the code links) ------------------------------------------
    def save_repos(self, repos: dict[str, RepoInfo]) -> None:
        rows = [{"url": url, **asdict(info)} for url, info in repos.items()]
        if rows:
            with self.db.atomic():
                self.db["repos"].upsert_all(rows, pk="url")

    def repos(self, urls: Iterable[str]) -> dict[str, RepoInfo]:
        return {url: RepoInfo(name_with_owner=r["name_with_owner"], stars=r["stars"], archived=bool(r["archived"]),
                              pushed_at=r["pushed_at"], checked_at=r["checked_at"] or 0.0)
                for url, r in self._rows_by_url("repos", urls).items()}

    # -- metadata -------------------------------------------------------------------------------
    def save_papers(self, metas: Iterable[PaperMeta]) -> None:
        rows = [_meta_to_row(m) for m in metas]
        if rows:
            with self.db.atomic():
                self.db["papers"].upsert_all(rows, pk="key")

    def paper(self, key: str) -> PaperMeta | None:
        rows = list(self.db.query("SELECT * FROM papers WHERE key = ?", [key]))
        return _row_to_meta(rows[0]) if rows else None

    def papers(self, keys: Iterable[str]) -> dict[str, PaperMeta]:
        return {key: _row_to_meta(row) for key, row in self._rows_by("papers", "key", keys).items()}

    def lookup(self, key: str, now: float, max_age: float) -> list | dict | None:
        """A fresh recorded answer to a question asked of a source, or None."""
        row = self.db.execute("SELECT fetched_at, answer FROM lookups WHERE key = ?", [key]).fetchone()
        if row and row[0] >= now - max_age:
            return json.loads(row[1])
        return None

    def lookups(self, keys: Iterable[str], now: float, max_age: float) -> dict[str, list | dict]:
        """The fresh recorded answers among `keys` (one query per few hundred keys)."""
        rows = self._rows_by("lookups", "key", keys, " AND fetched_at >= ?", (now - max_age,))
        return {key: json.loads(row["answer"]) for key, row in rows.items()}

    def save_lookups(self, answers: dict[str, list | dict], now: float) -> None:
        rows = [{"key": k, "fetched_at": now, "answer": json.dumps(v)} for k, v in answers.items()]
        if rows:
            with self.db.atomic():
                self.db["lookups"].upsert_all(rows, pk="key")


def paper_key(meta: PaperMeta) -> str:
    return f"arxiv:{meta.arxiv_id}" if meta.source == "arxiv" and meta.arxiv_id else f"{meta.source}:{meta.url}"


_RESULT_COLUMNS = ("url", "status", "http_status", "final_url", "error", "redirects", "checked_at", "etag",
                   "last_modified", "suggestion", "note", "title_score", "authors_matched")


_SAVE_RESULT = (
    f"INSERT INTO results ({', '.join(_RESULT_COLUMNS)}) VALUES ({', '.join('?' * len(_RESULT_COLUMNS))}) "
    f"ON CONFLICT(url) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in _RESULT_COLUMNS[1:])}"
)


def _result_to_row(r: CheckResult) -> tuple:
    # A tuple in _RESULT_COLUMNS' order, by hand: dataclasses.asdict deep-copies every field.
    return (r.url, r.status.value, r.http_status, r.final_url, r.error,
            json.dumps([[h.url, h.status] for h in r.redirects]), r.checked_at, r.etag, r.last_modified,
            r.suggestion, r.note, r.title_score, None if r.authors_matched is None else int(r.authors_matched))


def _row_to_result(row: dict) -> CheckResult:
    return CheckResult(
        url=row["url"], status=LinkStatus(row["status"]), http_status=row["http_status"],
        final_url=row["final_url"], error=row["error"],
        redirects=tuple(Hop(u, s) for u, s in json.loads(row["redirects"] or "[]")),
        checked_at=row["checked_at"] or 0.0, etag=row["etag"], last_modified=row["last_modified"],
        suggestion=row["suggestion"], from_cache=True, note=row.get("note"), title_score=row.get("title_score"),
        authors_matched=None if row.get("authors_matched") is None else bool(row["authors_matched"]),
    )


def _meta_to_row(m: PaperMeta) -> dict:
    row = asdict(m)
    row["authors"] = json.dumps(list(m.authors))
    row["key"] = paper_key(m)
    return row


def _row_to_meta(row: dict) -> PaperMeta:
    row = dict(row)
    row.pop("key", None)
    row["authors"] = tuple(json.loads(row["authors"] or "[]"))
    return PaperMeta(**row)
