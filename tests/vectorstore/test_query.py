"""Question analysis: pure functions, no index."""

from __future__ import annotations

from vectorstore.query import analyse, document_year, question_bigrams


def test_question_bigrams_leave_out_interrogatives_and_punctuation() -> None:
    grams = question_bigrams("会议同意了哪一年的工作部署？")
    assert {"会议", "同意", "工作", "部署"} <= grams
    assert not any(c in g for g in grams for c in "哪？")
    assert "意了" in grams and "了一" not in grams  # "哪" splits the question: no bigram spans it


def test_question_bigrams_are_normalised_like_the_passages() -> None:
    assert {"12", "20"} <= question_bigrams("新增１２０部")  # full-width digits
    assert "会议" in question_bigrams("會議決定")  # traditional characters


def test_question_bigrams_of_a_question_word_alone_are_empty() -> None:
    assert question_bigrams("是什么？") == set()


def test_analyse_spells_out_congress_aliases() -> None:
    info = analyse("十八大以来的变化")
    assert "第十八次全国代表大会" in info.phrases


def test_an_npc_session_named_is_the_year_asked_about_unless_a_congress_names_the_document() -> None:
    info = analyse("三届人大一次会议政府工作报告提到了什么？")
    assert info.years == [1964] and info.named_years == []  # focused on 1964; no year was written
    assert analyse("一届人大三次会议上关于1955年国家决算的报告").years == [1955, 1956]
    assert analyse("十一大政治报告提到，四届人大的人事安排由谁负责？").years == []


def test_a_resolution_titled_by_its_session_belongs_to_the_year_it_met() -> None:
    assert document_year("", "第二届全国人民代表大会第三次会议关于政府工作报告的决议") == 1962
    assert document_year("", "2018年政府工作报告——在第十三届全国人民代表大会第一次会议上") == 2018
    assert document_year("", "第十三届全国人民代表大会代表名单") is None  # a term spans five years


def test_a_target_year_is_not_the_year_asked_about() -> None:
    assert analyse("十七大报告里，到2020年翻两番的目标是什么？").years == []  # a plan's target, written in 2007
    assert analyse("到二〇三五年基本实现什么？").years == []
    assert analyse("2018年报告提出到2020年的目标").years == [2018]
    assert analyse("到2019年底全国还有多少贫困人口？").years == [2019]  # a state at a date, not a target
    assert analyse("2020年的目标是什么？").years == [2020]


def test_this_year_is_todays_year_unless_read_with_a_lag() -> None:
    info = analyse("今年民生实事有哪些？", this_year=2026)
    assert info.years == [2026] and info.relative == {"今年": 2026} and info.this_year == 2026
    info = analyse("今年民生实事有哪些？", this_year=2026, lag=1)
    assert info.years == [2025] and info.relative == {"今年": 2025} and info.this_year == 2026
    # only "今年" moves: last year and next year keep their meaning against today
    assert analyse("去年完成了什么？", this_year=2026, lag=1).years == [2025]
    assert analyse("明年的目标是什么？", this_year=2026, lag=1).years == [2027]
