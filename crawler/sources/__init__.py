"""Metadata sources (arXiv, CVF): one module each, parsing pure, fetching behind one small class."""
