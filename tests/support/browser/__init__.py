"""Helpers for tests that load the reports in a real browser (Debian's headless Chromium)."""
