"""Scoring what the user reads: gold inside the answer text, list items, refusals, the 1,250-character budget."""

from __future__ import annotations

from bot.types import Citation
from speechqa.answer_eval import AnswerScore, found_parts, select
from speechqa.evaluate import budget_texts, span_in

LIST = {"id": "x1", "kind": "list", "doc": "a.txt", "answer": "甲项", "answer_parts": ["甲项", "乙项", "丙项"]}
NUMBER = {"id": "x2", "kind": "number", "doc": "a.txt", "answer": "６０条"}
NONE = {"id": "x3", "kind": "unanswerable", "doc": None, "answer": None}


def test_gold_is_matched_normalised_and_without_markers() -> None:
    assert found_parts(NUMBER, "整治背街小巷60[1]条") == [True]  # full-width digits, a marker inside
    assert found_parts(LIST, "甲项[1]\n乙项[1]") == [True, True, False]


def test_tally_per_kind_with_refusals_counted_as_misses() -> None:
    s = AnswerScore()
    s.add(LIST, "甲项[1]\n乙项[1]", False, 10.0)
    s.add(NUMBER, "资料库中没有找到相关内容", True, 20.0)
    s.add(NONE, "资料库中没有找到相关内容", True, 5.0)
    r = s.rows["all"]
    assert r["span"] == [0.0, 0.0] and r["recall"] == [2 / 3] and r["wrong"] == [0.0, 1.0] and r["refused_ok"] == [1.0]
    table = s.table("t")
    assert "| list | 1 | 0.00 | 0.67 |" in table and "| unanswerable | 1 | - | - | 1.00 |" in table


def test_select_by_archive_and_split() -> None:
    rows = [{"id": "a", "split": "tune"}, {"id": "b", "archive": "demo", "split": "tune"}, {"id": "c", "split": "heldout"}]
    assert [r["id"] for r in select(rows, "corpus", "tune")] == ["a"]
    assert [r["id"] for r in select(rows, "demo", None)] == ["b"]


def _cite(n: int, text: str, hit: tuple[int, int]) -> Citation:
    return Citation(n, "d", "d", "t", "", "", text, 1000, 1000 + len(text), 1.0, hit_start=1000 + hit[0],
                    hit_end=1000 + hit[1])


def test_budget_keeps_250_characters_around_each_hit_up_to_1250() -> None:
    far = "甲" * 300 + "答案在这里" + "乙" * 300
    texts = budget_texts([_cite(1, far, (300, 305))])
    assert len(texts[0]) == 250 and "答案在这里" in texts[0]
    assert not span_in({"answer": "答案在这里"}, budget_texts([_cite(1, far, (0, 10))]))
    six = [_cite(i, "丙" * 300, (0, 300)) for i in range(1, 7)]
    assert sum(len(t) for t in budget_texts(six)) == 1250


def test_budget_around_what_the_answer_took_from_a_citation() -> None:
    """span@1250[n]: each citation's 250 characters around the unit the answer's [n] opens, when it has one."""
    from bot.types import Unit

    far = "甲" * 300 + "答案在这里" + "乙" * 300
    cite = _cite(1, far, (0, 10))  # retrieval's hit is far from the answer
    taken = [Unit(1, "d", 1300, 1305, "答案在这里", "sentence", 0)]
    assert not span_in({"answer": "答案在这里"}, budget_texts([cite]))
    assert span_in({"answer": "答案在这里"}, budget_texts([cite], taken))
    other = [Unit(2, "d", 1300, 1305, "答案在这里", "sentence", 0)]  # taken from another citation
    assert not span_in({"answer": "答案在这里"}, budget_texts([cite], other))
