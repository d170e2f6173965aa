"""The SQLite cache, the history of runs, the last enrichment."""
