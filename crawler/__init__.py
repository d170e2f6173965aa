"""Keeps research-paper lists healthy: checks links, fills empty ones, collects abstracts."""

__version__ = "0.1.0"
