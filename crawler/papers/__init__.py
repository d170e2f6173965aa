"""Is it the entry's paper: titles, authors, years; fills and abstracts."""
