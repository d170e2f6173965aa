"""Links inside the repository, judged from its files with no network: `#anchors` and relative paths.

What GitHub does with them, and so what we check:
- `#fragment` names a heading of the list (its slug, crawler.listfile.slugs) or an `id=`/`name=` of its raw HTML.
  GitHub's page script looks the fragment up percent-decoded and lower-cased (`user-content-` + it), so
  `#AAAI-2021` reaches the heading "AAAI 2021"; an exact match counts too (a raw `id="Foo"`). `#` alone
  and `#top` go to the top of the page (the HTML standard), and `#readme` to a README's own box.
- A relative path is resolved against the list's own folder, a path starting with `/` against the
  repository's root; percent-decoded, the query ignored. It must name an existing file or folder, matched
  case by case as GitHub (a case-sensitive store) does, even on a case-insensitive disk. A path that
  climbs out of the repository is `invalid`.
- The repository's root is the nearest folder above the list holding `.git` (a folder, or a worktree's
  file). Without one: the working folder when the list is inside it (a checkout without its history),
  else the list's own folder.
- A fragment on a Markdown target is looked up in that file's headings (parsed once per file). A line
  anchor (`#L10`, `#L10-L20`, `#L19C5-L21C11`) means a line only where GitHub shows lines: any fragment is
  accepted on a file GitHub shows as code (a line, a PDF's `#page=3`); on a Markdown file GitHub shows
  the rendered page, where a line anchor needs `?plain=1` and must be within the file.
"""

from __future__ import annotations

import functools
import os
import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote

from crawler.checking.verdicts import result
from crawler.findings import Finding, Gone, Invalid, Works
from crawler.listfile.links import precheck, url_key
from crawler.listfile.parse import read_links
from crawler.models import Anchors, CheckResult, Link

# The extensions github/markup renders as Markdown.
MARKDOWN = frozenset({".md", ".markdown", ".mdown", ".mkdn", ".mkd", ".mdwn"})
_LINE_ANCHOR = re.compile(r"L(\d+)(?:C\d+)?(?:-L(\d+)(?:C\d+)?)?")
_README = re.compile(r"readme(\.[a-z]+)?", re.I)


@functools.lru_cache(maxsize=1024)
def repository_root(folder: str) -> str:
    """The absolute path of the repository holding `folder` (see the module's docstring)."""
    here = os.path.abspath(folder)
    probe = here
    while True:
        if os.path.exists(os.path.join(probe, ".git")):
            return probe
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    cwd = os.getcwd()
    return cwd if here == cwd or here.startswith(cwd.rstrip(os.sep) + os.sep) else here


@dataclass(frozen=True)
class Target:
    """What a link inside the repository names: a path (absolute, normalised) and a fragment, decoded."""

    list_path: str  # the list it is written in, absolute
    root: str  # the repository's root, absolute
    path: str  # the file or folder it names, absolute (the list itself for `#fragment`)
    fragment: str | None  # None: no `#` at all
    plain: bool  # `?plain=1`: GitHub shows a Markdown file's source, with line numbers

    @property
    def inside(self) -> bool:
        return self.path == self.root or self.path.startswith(self.root.rstrip(os.sep) + os.sep)

    @property
    def relative(self) -> str:
        """The path from the repository's root, as messages name it (`docs/GUIDE.md`)."""
        return posixpath.join(*os.path.relpath(self.path, self.root).split(os.sep))


def _list_path(file: str) -> str:
    """The list's absolute path (a list read without a name stands in the working folder)."""
    return os.path.abspath(file) if file else os.path.join(os.getcwd(), "")


def target_of(file: str, url: str) -> Target:
    raw = url.strip()
    rest, hash_, fragment = raw.partition("#")
    path, _, query = rest.partition("?")
    list_path = _list_path(file)
    folder = os.path.dirname(list_path)
    root = repository_root(folder)
    path = unquote(path)
    if not path:
        where = list_path
    elif path.startswith("/"):
        where = os.path.normpath(os.path.join(root, path.lstrip("/")))
    else:
        where = os.path.normpath(os.path.join(folder, path))
    plain = "1" in parse_qs(query).get("plain", [])
    return Target(list_path, root, where, unquote(fragment) if hash_ else None, plain)


def link_key(file: str, url: str) -> str:
    """The cache and de-duplication key of a link as written in a list ("" for an empty link).

    A web link's is its normalised URL (crawler.listfile.links.url_key). A link inside the repository names a target,
    so its key is that target as the lists are named (relative to the working folder, `./` first, or
    absolute), plus its fragment: `#intro` in a.md and in b.md are two keys, `../x.md` from two folders too,
    `/docs/x.md` and `docs/x.md` from the root one.
    """
    raw = url.strip()
    if not file or not raw or raw[:8].lower().startswith(("http://", "https://")) or not precheck(raw).local:
        return url_key(url)  # a list read without a name: nothing to name the target by
    target = target_of(file, url)
    named = target.path if os.path.isabs(file) else os.path.relpath(target.path)
    named = named.replace(os.sep, "/")
    if not named.startswith(("/", "../")) and named != "..":
        named = "./" + named
    return named if target.fragment is None else f"{named}#{target.fragment}"


class Repository:
    """Checks the run's links inside the repository. Folder listings and the anchors of Markdown targets
    are read once per run; the lists' own anchors come from the parse that found their links."""

    def __init__(self, lists: Iterable[Anchors] = ()):
        self._anchors: dict[str, Anchors | None] = {_list_path(a.file): a for a in lists}
        self._listings: dict[str, frozenset[str] | None] = {}

    def check(self, key: str, link: Link, now: float) -> CheckResult:
        return result(key, self.finding(target_of(link.file, link.url)), now, in_repository=True)

    def finding(self, t: Target) -> Finding:
        """What the repository's files say of the target."""
        if not t.inside:
            return Invalid("the path climbs out of the repository")
        if not self._exists(t.root, t.relative):
            return Gone(f"no file {t.relative}")
        if not t.fragment or t.fragment.lower() == "top":
            return Works()
        page = self._page(t.path)
        if page is None:
            return Works()  # a file GitHub shows as code (or a folder without a README): any line
        anchors, page_path = page
        shown = posixpath.join(*os.path.relpath(page_path, t.root).split(os.sep))
        line = _LINE_ANCHOR.fullmatch(t.fragment)
        if line and t.plain:
            last = int(line[2] or line[1])
            return Works() if last <= anchors.lines else Gone(f"no line {last} in {shown} ({anchors.lines} lines)")
        if _names(t.fragment, anchors, readme=bool(_README.fullmatch(os.path.basename(t.path)))):
            return Works()
        why = f'no heading "#{t.fragment}" in {shown}'
        if line:
            why += " (a line anchor needs ?plain=1 on a Markdown file)"
        return Gone(why)

    # -- the files ------------------------------------------------------------------------------------
    def _exists(self, root: str, relative: str) -> bool:
        """Whether every part of `relative` is in its folder's listing: exact case, whatever the disk."""
        folder = root
        for part in relative.split("/"):
            if part in ("", "."):
                continue
            names = self._listing(folder)
            if names is None or part not in names:
                return False
            folder = os.path.join(folder, part)
        return True

    def _listing(self, folder: str) -> frozenset[str] | None:
        if folder not in self._listings:
            try:
                self._listings[folder] = frozenset(os.listdir(folder))
            except OSError:  # not a folder, or unreadable
                self._listings[folder] = None
        return self._listings[folder]

    def _page(self, path: str) -> tuple[Anchors, str] | None:
        """The anchors of the Markdown page GitHub shows at `path` (a folder shows its README), and its path."""
        if path in self._anchors:  # a list of the run, or a page read before
            anchors = self._anchors[path]
            return None if anchors is None else (anchors, path)
        if os.path.isdir(path):
            names = self._listing(path) or frozenset()
            readme = sorted(n for n in names if _README.fullmatch(n) and os.path.splitext(n)[1].lower() in MARKDOWN)
            if not readme:
                return None
            path = os.path.join(path, readme[0])
        if os.path.splitext(path)[1].lower() not in MARKDOWN:
            return None
        if path not in self._anchors:
            self._anchors[path] = _read_anchors(path)
        anchors = self._anchors[path]
        return None if anchors is None else (anchors, path)


def _read_anchors(path: str) -> Anchors | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
    except OSError:
        return None
    return read_links(text).anchors


def _names(fragment: str, anchors: Anchors, *, readme: bool) -> bool:
    targets = anchors.slugs | anchors.ids
    return fragment in targets or fragment.lower() in targets or (readme and fragment.lower() == "readme")
