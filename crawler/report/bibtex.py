"""data/papers.bib: a BibTeX entry for every paper entry whose metadata was found."""

from __future__ import annotations

import re
import unicodedata

_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "%": r"\%", "&": r"\&", "$": r"\$", "#": r"\#",
            "_": r"\_", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def _tex(text: str) -> str:
    """Remote text as a BibTeX value: balanced braces guaranteed, TeX specials escaped."""
    text = re.sub(r"\s+", " ", text).strip()
    return "".join(_SPECIAL.get(ch, ch) for ch in text)


def _key_part(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9]", "", ascii_text)


def cite_key(record: dict, taken: set[str]) -> str:
    """'hinton2015distilling': first author's surname, year, first significant title word."""
    first = (record.get("authors") or [""])[0]
    surname = first.split(",")[0] if "," in first else (first.split() or [""])[-1]
    words = [w for w in re.findall(r"[A-Za-z0-9]+", record.get("matched_title") or record["title"])
             if w.lower() not in {"a", "an", "the", "on", "of"}]
    word = _key_part(words[0]).lower() if words else ""
    base = f"{_key_part(surname).lower() or 'anon'}{record.get('year') or ''}{word}"
    key, n = base, 1
    while key in taken:
        n += 1
        key = f"{base}{chr(ord('a') + n - 2)}" if n <= 27 else f"{base}{n}"
    taken.add(key)
    return key


def render(records: list[dict]) -> str:
    taken: set[str] = set()
    out = []
    for r in records:
        if not (r.get("paper_url") or r.get("arxiv_id")):
            continue  # nothing was found about it: an entry made of guesses helps no one
        fields = {"title": r.get("matched_title") or r["title"], "author": " and ".join(r.get("authors") or [])}
        if r.get("year"):
            fields["year"] = str(r["year"])
        venue = r.get("venue")
        kind = "inproceedings" if venue and venue.lower() not in ("arxiv", "corr") else "misc"
        if kind == "inproceedings":
            fields["booktitle"] = venue
        if r.get("arxiv_id"):
            fields.update(eprint=r["arxiv_id"], archivePrefix="arXiv")
        if r.get("paper_url"):
            fields["url"] = r["paper_url"]
        body = ",\n".join(f"  {k} = {{{_tex(v)}}}" for k, v in fields.items() if v)
        out.append(f"@{kind}{{{cite_key(r, taken)},\n{body}\n}}\n")
    return "\n".join(out)
