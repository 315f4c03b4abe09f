"""core.zh: the Chinese-text rules every stage shares (numerals, years, congresses, NPC sessions, sentences)."""

from __future__ import annotations

import re

import pytest

from core.zh import (
    SENTENCE_ENDS,
    cn_number,
    congresses,
    holds,
    npc_sessions,
    plenums,
    sentence_spans,
    sentences,
    years_in,
)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("三", 3), ("十", 10), ("十二", 12), ("二十", 20), ("二十七", 27), ("三十一", 31), ("一十", 10),
        ("两", 2), ("两千", 2000), ("一百零五", 105), ("一千零五十", 1050), ("九千九百九十九", 9999),
        ("三百五", 350), ("两千三", 2300), ("一万二", 12000), ("一万零五", 10005), ("十万", 100000),
        ("一亿三千万", 130_000_000), ("廿三", 23), ("卅", 30), ("零", 0), ("〇", 0),
        ("二〇二〇", 2020), ("一九九七", 1997), ("二零二二", 2022), ("二○一八", 2018),
        ("二０二０", 2020), ("二0二0", 2020), ("２０２０", 2020), ("2020", 2020), ("3万", 30000),
    ],
)
def test_cn_number_reads_positional_and_digit_by_digit_numerals(text: str, value: int) -> None:
    assert cn_number(text) == value


@pytest.mark.parametrize("text", ["", "三四", "二二", "十十", "三百十", "十百", "两两", "万", "3.5", "十二a", "大"])
def test_cn_number_is_none_for_what_is_not_one_number(text: str) -> None:
    assert cn_number(text) is None


def test_years_in_finds_arabic_chinese_and_mixed_years() -> None:
    assert years_in("2018年和二〇一九年，二０二〇年") == [2018, 2019, 2020]
    assert years_in("2018-03-05") == [2018]
    assert years_in("编号12018号，增长20180%") == []  # digits inside a longer number are no year
    assert years_in("1850年") == [1850] and years_in("1850") == []  # a bare number counts from 1940 only


def test_holds_does_not_find_a_numeral_inside_a_larger_number() -> None:
    assert not holds("高举旗帜(十五大)", "五大")
    assert holds("党的五大", "五大") and holds("五大", "五大")
    assert not holds("第十四届人民代表大会", "四届") and holds("第四届全国人民代表大会", "四届")
    assert holds("政府工作报告", "工作报告")


@pytest.mark.parametrize(
    ("text", "short"),
    [
        ("十七大报告里，到2020年翻两番的目标是什么？", "十七大"), ("党的十八大以来", "十八大"),
        ("党的五大召开时", "五大"), ("党的九大是哪一天", "九大"), ("十二大定的到本世纪末", "十二大"),
        ("十五大展望下个世纪", "十五大"), ("陈独秀在三大作报告时", "三大"), ("一大前广州的党员", "一大"),
        ("二十大和二十届一中全会", "二十大"), ("十五大、十六大", "十五大"), ("十九大", "十九大"),
    ],
)
def test_a_congress_in_short_form_is_found(text: str, short: str) -> None:
    found = congresses(text)
    assert found and found[0].short == short
    assert found[0].full == f"第{short.removesuffix('大')}次全国代表大会"


@pytest.mark.parametrize(
    "text",
    ["打好三大攻坚战", "贯彻五大发展理念", "古代四大发明", "办好十大民生实事", "红军三大主力会宁会师",
     "党的三大作风", "建设全国统一大市场", "一大批重大项目", "两大任务", "一大步"],
)
def test_a_counted_set_is_not_a_congress(text: str) -> None:
    assert congresses(text) == []


def test_a_congress_is_not_the_tail_of_a_larger_one() -> None:
    assert [c.short for c in congresses("高举旗帜(十五大)")] == ["十五大"]


@pytest.mark.parametrize(
    ("text", "years"),
    [("三届人大一次会议政府工作报告", (1964,)), ("四届人大的政府工作报告", (1975,)),
     ("第五届全国人民代表大会第二次会议", (1979,)), ("在一届人大二次会议上", (1955,)),
     ("十二届全国人大三次会议", (2015,)), ("第十四届全国人民代表大会第二次会议", (2024,)),
     ("五届人大", (1978, 1979, 1980, 1981, 1982)), ("第十三届全国人大", (2018, 2019, 2020, 2021, 2022))],
)
def test_an_npc_session_gives_the_year_it_met(text: str, years: tuple[int, ...]) -> None:
    assert [s.years for s in npc_sessions(text)] == [years]


def test_an_npc_session_is_known_in_the_forms_documents_write() -> None:
    (session,) = npc_sessions("二届人大三次会议批准的报告")
    assert "第二届全国人民代表大会第三次会议" in session.forms


@pytest.mark.parametrize(
    "text",
    ["十三届全国人大常委会第五次会议", "浙江省十四届人大四次会议", "宁夏十三届人大四次会议", "三届人大六次会议",
     "四届人大第二次会议"],
)
def test_a_standing_committee_a_province_or_a_session_that_never_met_is_no_npc_session(text: str) -> None:
    assert npc_sessions(text) == []


@pytest.mark.parametrize(
    ("text", "form"),
    [("十九届五中全会上的说明", "第十九届中央委员会第五次全体会议"), ("党的十九届中央委员会第五次全体会议", "十九届五中全会"),
     ("三中全会以来", "第三次全体会议")],
)
def test_a_plenum_is_known_in_the_forms_documents_write(text: str, form: str) -> None:
    (plenum,) = plenums(text)
    assert form in plenum.forms


@pytest.mark.parametrize("text", ["十九届中央纪委三次全会", "十九届中纪委三中全会", "十二届全国人大第五次全体会议",
                                  "第五次全体会议"])
def test_a_discipline_commission_an_npc_or_an_unnamed_bodys_session_is_no_plenum(text: str) -> None:
    assert plenums(text) == []


def test_sentence_ends_are_one_set() -> None:
    assert set("。！？；…!?;") == set(SENTENCE_ENDS)
    assert "，" not in SENTENCE_ENDS and "." not in SENTENCE_ENDS  # 3.5 is never cut


def test_sentences_keep_closing_quotes_and_titles_whole() -> None:
    text = "他说：“今天很好。”然后走了！！《关于A！B的决定》已通过；增长3.5%……\n第二行\n\n  第三行。"
    assert sentences(text) == [
        "他说：“今天很好。”", "然后走了！！", "《关于A！B的决定》已通过；", "增长3.5%……", "第二行", "第三行。",
    ]


def test_sentence_spans_are_offsets_without_surrounding_whitespace() -> None:
    text = "  第一句。 第二句？\n第三句"
    spans = sentence_spans(text)
    assert [text[a:b] for a, b in spans] == ["第一句。", "第二句？", "第三句"]
    assert spans[0] == (2, 6)


def test_an_unclosed_title_bracket_does_not_swallow_the_rest() -> None:
    assert sentences("见《通知。后面一句。") == ["见《通知。", "后面一句。"]


def test_a_trail_stays_on_its_sentence() -> None:
    marks = re.compile(r"\s*\[\d+\]")
    assert sentences("答案……[1]。第二句。 [2]第三句", marks) == ["答案……[1]。", "第二句。 [2]", "第三句"]
    assert sentences("第二句。[2]") == ["第二句。", "[2]"]  # without a trail the marker starts a sentence
