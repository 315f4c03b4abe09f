"""The refusal rule's pure parts: what a question pins down and whether a source mentions it."""

from __future__ import annotations

from bot.refusal import satisfies, specifics


def _spec(question: str, label: str):  # noqa: ANN202
    return next(sp for sp in specifics(question) if sp.label == label)


def test_a_congress_is_not_the_tail_of_a_larger_one() -> None:
    five = _spec("党的五大召开时全党有多少党员？", "五大")
    assert not satisfies(five, "中央建议十五大在党章中把邓小平理论确立为党的指导思想", "(十五大)", 1997)
    assert satisfies(five, "党的五大在武汉召开", "", None)
    assert satisfies(five, "", "中国共产党第五次全国代表大会", None)


def test_a_session_is_not_the_tail_of_a_larger_one() -> None:
    fourth = _spec("四届人大的政府工作报告说了什么？", "四届")
    assert not satisfies(fourth, "浙江省第十四届人民代表大会第四次会议", "", 2026)
    assert satisfies(fourth, "向第四届全国人民代表大会作政府工作报告", "", 1975)


def test_a_named_year_is_met_by_the_documents_year_or_its_text() -> None:
    year = _spec("2018年的赤字率是多少？", "2018")
    assert satisfies(year, "", "", 2018)
    assert satisfies(year, "二〇一八年赤字率拟按2.6%安排", "", 2019)
    assert not satisfies(year, "赤字率拟按3%安排", "", 2019)
