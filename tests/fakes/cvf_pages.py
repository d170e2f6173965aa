"""Map a CVF request (path and query) to the fixture that answers it, for respx and loopback fakes.

Rules (also in tests/fixtures/cvf/README.md):
  /CVPR2017                        -> CVPR2017.html
  /CVPR2019?day=2019-06-18         -> CVPR2019_day_2019-06-18.html
  /CVPR2023?day=all                -> CVPR2023_day_all.html
  /<folder>/html/<name>.html       -> papers/<name>.html   (any era: content_cvpr_2017, content/CVPR2023)
Anything else, or a rule whose file does not exist, -> None (serve a 404).
Kept apart from crawler.sources.cvf on purpose, so a bug there cannot hide behind the fake.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from tests import paths

FIXTURES = paths.FIXTURES / "cvf"

_CONFERENCE = re.compile(r"/([A-Z]+\d{4})")
_PAPER = re.compile(
    r"/(?:content_[A-Za-z]+_\d{4}|content/[A-Za-z]+\d{4})/html/([A-Za-z0-9_.\-]+_paper)\.html"
)
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}|all")


def fixture_for_path(path_with_query: str) -> Path | None:
    """'/CVPR2019?day=2019-06-18' -> .../CVPR2019_day_2019-06-18.html; None when nothing answers it."""
    parts = urlsplit(path_with_query)
    query = parse_qs(parts.query, keep_blank_values=True)
    file: Path | None = None
    if m := _CONFERENCE.fullmatch(parts.path):
        if not query:
            file = FIXTURES / f"{m[1]}.html"
        elif set(query) == {"day"} and len(query["day"]) == 1 and _DAY.fullmatch(query["day"][0]):
            file = FIXTURES / f"{m[1]}_day_{query['day'][0]}.html"
    elif (m := _PAPER.fullmatch(parts.path)) and not query:
        file = FIXTURES / "papers" / f"{m[1]}.html"
    return file if file is not None and file.is_file() else None
