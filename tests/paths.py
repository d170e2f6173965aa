"""Where the tests find things: the repository, the fixtures, the real lists, the loopback guard."""

import os
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
FIXTURES = TESTS / "fixtures"
SEED = ROOT / "data" / "papers.md"
# sitecustomize for a crawler started as a subprocess: it may reach loopback only.
GUARD = TESTS / "support" / "loopback_only"
# The real lists beside the project (.ci/run sets CRAWLER_CORPUS); tests that need them skip without them.
CORPUS = Path(os.environ.get("CRAWLER_CORPUS") or ROOT.parent / "shared" / "corpus" / "lists")
