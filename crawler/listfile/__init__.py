"""The list: reading, parsing (links, entries, anchors), URL rules, exclusions, rewriting."""
