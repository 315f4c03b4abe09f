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
    fourth = _spec("四届人大的政府工作报告说了什么？", "四届人大")
    assert not satisfies(fourth, "浙江省第十四届人民代表大会第四次会议", "", 2026)
    assert satisfies(fourth, "向第四届全国人民代表大会作政府工作报告", "", 1975)
    assert satisfies(fourth, "毛主席确定四届人大和国务院的人事安排", "", 1977)  # named in a later document


def test_an_npc_session_is_met_by_the_year_it_met_in_not_by_its_words() -> None:
    # the 1964 report's text never says "三届"; the 1975 one says "从三届人大以来"
    third = _spec("三届人大一次会议的政府工作报告提到了什么？", "三届人大一次会议")
    assert satisfies(third, "五年来，我国各族人民……", "1964年中华人民共和国国务院政府工作报告", 1964)
    assert not satisfies(third, "从三届人大以来，我国各族人民……", "1975年中华人民共和国国务院政府工作报告", 1975)
    assert not [sp for sp in specifics("三届人大一次会议的报告") if sp.label in ("三届", "一次")]
    # a resolution's title names its session, and no year
    second = _spec("二届人大三次会议批准了什么？", "二届人大三次会议")
    assert satisfies(second, "", "第二届全国人民代表大会第三次会议关于政府工作报告的决议", None)


def test_a_plenum_is_met_by_that_plenum_not_by_another_of_its_term() -> None:
    fifth = _spec("十九届五中全会上关于规划建议的说明讲了什么？", "十九届五中全会")
    assert not satisfies(fifth, "党的十九届三中全会文件及辅导读物首发式在京举行", "", 2018)
    assert satisfies(fifth, "党的十九届中央委员会第五次全体会议审议通过了建议", "", 2020)
    assert not [sp for sp in specifics("十九届五中全会的建议") if sp.label == "十九届"]


def test_a_named_year_is_met_by_the_documents_year_or_its_text() -> None:
    year = _spec("2018年的赤字率是多少？", "2018")
    assert satisfies(year, "", "", 2018)
    assert satisfies(year, "二〇一八年赤字率拟按2.6%安排", "", 2019)
    assert not satisfies(year, "赤字率拟按3%安排", "", 2019)
