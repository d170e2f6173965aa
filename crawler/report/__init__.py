"""One formatter per output; each takes the RunReport and returns text (crawler.cli.outputs writes them)."""
