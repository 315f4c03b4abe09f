"""The acceptance questions over the two scraped seed speeches, with the real model and store."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def test_may_priorities_cite_seed_000_with_bike_passage(seed_qa) -> None:  # noqa: ANN001
    ans = seed_qa.ask("会议决定5月的工作重点是什么？")
    assert not ans.refused
    first = ans.citations[0]
    assert first.doc_id == "seed_000.txt"
    assert "共享单车" in first.text
    assert "[1]" in ans.answer
    assert "5月的工作重点" in ans.answer


def test_three_donts_passage_is_cited(seed_qa) -> None:  # noqa: ANN001
    ans = seed_qa.ask("政策预判要做到哪三不当？")
    assert not ans.refused
    assert ans.citations[0].doc_id == "seed_000.txt"
    assert "三不当" in ans.citations[0].text
    assert "不当甩手掌柜" in " ".join(c.text for c in ans.citations[:2])


def test_question_neither_speech_answers_is_refused(seed_qa) -> None:  # noqa: ANN001
    ans = seed_qa.ask("2019年全国国防支出预算比上年增长了多少？")
    assert ans.refused
    assert ans.citations == []
    assert "没有找到" in ans.answer


def test_citation_offsets_point_into_the_document(seed_qa) -> None:  # noqa: ANN001
    ans = seed_qa.ask("共享单车整治由谁负责？")
    assert not ans.refused
    for c in ans.citations:
        doc = seed_qa.get_document(c.doc_id)
        assert doc is not None
        assert doc.text[c.start : c.end] == c.text
        assert c.start <= c.hit_start < c.hit_end <= c.end
        assert len(c.text) <= 1500


def test_answer_sentences_come_from_cited_passages(seed_qa) -> None:  # noqa: ANN001
    import re

    ans = seed_qa.ask("共享单车整治由谁负责？")
    for sentence, n in re.findall(r"([^\[\]]+)\[(\d+)\]", ans.answer):
        assert sentence.strip() in ans.citations[int(n) - 1].text


@pytest.mark.parametrize("question", ["", "   ", "\x00\x01\x02"])
def test_empty_questions_get_a_message(seed_qa, question: str) -> None:  # noqa: ANN001
    ans = seed_qa.ask(question)
    assert ans.error == "请输入问题。"
    assert ans.citations == []


def test_a_10000_character_question_gets_a_message(seed_qa) -> None:  # noqa: ANN001
    ans = seed_qa.ask("共享单车" * 2500)
    assert ans.error and "太长" in ans.error
    assert ans.citations == []


def test_markup_in_a_question_is_just_text(seed_qa) -> None:  # noqa: ANN001
    ans = seed_qa.ask("<script>alert(1)</script>共享单车整治由谁负责？")
    assert not ans.error
    assert "<script>" not in ans.answer
