"""One formatter per output; each takes the report dict and returns text. Only the caller writes files."""
