"""benchmarks/coverage.py: who can judge each link of a list, by the rules of 1bd0498 and by today's."""

from __future__ import annotations

import json

from benchmarks.coverage import Kind, Rules, main, measure

LIST = """# Papers

## Contents
- [Vision](#vision) [Elsewhere](docs/more.md#vision) [Licence](LICENSE)

## Vision
- [Attention Is All You Need](https://arxiv.org/abs/1706.03762), Ashish Vaswani, NeurIPS 2017
- [Deep Residual Learning for Image Recognition](https://arxiv.org/abs/1706.03762), Kaiming He, CVPR 2016
- [Widget Graphs](https://openreview.net/forum?id=abcdEFGH12), Ada Lovelace, ICLR 2024
- [Hashed Widgets](https://openreview.net/pdf/0123456789abcdef0123456789abcdef01234567.pdf), Ada Lovelace, ICLR 2024
- [Learning Analytics](https://dl.acm.org/doi/abs/10.1145/3027385.3027428), Maren Scheffel, LAK 2017
- [A Transactions Paper](https://doi.org/10.1109/TPAMI.2020.1234567), Ada Lovelace, TPAMI 2020
- [A PLOS Paper](https://doi.org/10.1371/journal.pone.0033693), Shankar Sadasivan, PLoS ONE 2012
- [Hand Pose from Depth](https://ieeexplore.ieee.org/document/7410425), Ada Lovelace, ICCV 2015
- [Code](https://github.com/o/r) and [write to us](mailto:list@example.org)
- IEEE's journal: [TPAMI](https://ieeexplore.ieee.org/xpl/RecentIssue.jsp?punumber=34)
"""


def test_each_link_is_classified_by_who_judges_it_before_and_now(tmp_path):
    (tmp_path / "owner__repo__README.md").write_text(LIST, encoding="utf-8")
    (one, total) = measure(tmp_path)
    assert one.name == "owner/repo" and total.name == "total" and total.links == one.links == 14
    assert dict(one.kinds) == {Kind.ANCHOR: 1, Kind.FILE: 2, Kind.REST: 3, Kind.OPENREVIEW: 2, Kind.DOI: 3,
                               Kind.IEEE: 1, Kind.WALLED: 1, Kind.SCHEME: 1}
    assert one.repeats == 1  # the arXiv page pasted under Deep Residual Learning
    # Before: 3 in the repository, 2 OpenReview, ACM and the IEEE DOI (walled pages), the IEEE document and the
    # journal's page, mailto, the pasted arXiv link. Now: the hashed OpenReview PDF (no id to ask), the
    # journal's page (walled, nothing to ask by) and mailto; without an account both OpenReview links too.
    assert one.not_judged == {Rules.BEFORE: 11, Rules.ACCOUNT: 3, Rules.NO_ACCOUNT: 4}


def test_the_command_prints_a_table_per_list_and_in_total(tmp_path, capsys):
    (tmp_path / "a__b__list.md").write_text(LIST, encoding="utf-8")
    assert main([str(tmp_path), "--json", str(tmp_path / "out.json")]) == 0
    out = capsys.readouterr().out
    assert "| a/b list.md | 14 |" in out and "| **total** | 14 |" in out
    assert "| 11 (78.6 %) | 3 (21.4 %) | 4 (28.6 %) |" in out
    figures = json.loads((tmp_path / "out.json").read_text())
    assert figures[-1]["not_judged"] == {"before (1bd0498)": 11, "now, OpenReview account": 3, "now, no account": 4}
    assert main([str(tmp_path / "nothing-here")]) == 2
