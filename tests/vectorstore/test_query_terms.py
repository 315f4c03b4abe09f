"""Which words of a question carry it: interrogatives as whole words, congress aliases, real words only."""

from __future__ import annotations

from vectorstore.keyword import tokenize
from vectorstore.query import analyse, is_asking, key_terms, question_bigrams


def test_names_holding_question_characters_are_key_terms() -> None:
    tokens = ["何立峰", "几内亚", "那曲", "任何", "如何", "几乎", "谁", "长江"]
    assert key_terms(tokens) == ["何立峰", "几内亚", "那曲", "任何", "几乎", "长江"]


def test_interrogative_words_are_still_left_out() -> None:
    asking = ["哪", "哪个", "哪些", "哪一年", "哪几天", "几项", "几月", "多少", "多少岁", "什么", "什么样", "怎么",
              "如何", "为何", "何时", "谁", "吗", "呢", "啥", "是否", "那份", "那么"]
    assert all(is_asking(w) for w in asking)
    assert key_terms(asking + ["停车"]) == ["停车"]
    assert key_terms(tokenize("何立峰何时到那曲调研？")) == key_terms(tokenize("何立峰到那曲调研"))


def test_the_pieces_of_an_interrogative_the_segmenter_kept_whole_ask_too() -> None:
    question = "区政府常务会议一般多长时间开一次？"
    assert "多长时间" in tokenize(question) and "长时间" in tokenize(question)
    terms = key_terms(tokenize(question), {}, question)
    assert "时间" not in terms and "长时间" not in terms and "常务会议" in terms
    assert "时间" in key_terms(tokenize("会议时间多长？"), {}, "会议时间多长？")  # not inside one: a subject


def test_question_bigrams_keep_names_whole() -> None:
    grams = question_bigrams("那曲调研由谁负责？")
    assert "那曲" in grams and "曲调" in grams  # the place name stays, not only its tail
    assert not any("谁" in g for g in grams)
    assert {"何立", "立峰"} <= question_bigrams("何立峰到了哪几个地方？")
    assert not any("哪" in g or "几" in g for g in question_bigrams("何立峰到了哪几个地方？"))


def test_a_congress_short_form_is_spelled_out() -> None:
    assert "第十七次全国代表大会" in analyse("十七大报告提出了什么？").phrases
    assert "第十八次全国代表大会" in analyse("党的十八大以来的变化").phrases


def test_counted_sets_are_not_congresses() -> None:
    for question in ["三大攻坚战取得了什么进展？", "五大发展理念是什么？", "四大发明有哪些？", "十大民生实事包括哪些？"]:
        info = analyse(question)
        assert info.phrases == [] and "全国代表大会" not in info.expanded, question


def test_a_segmentation_accident_is_not_a_key_term() -> None:
    df = {"赤字率": 40, "增长": 900}
    # "率定", "年作", "林到": not in jieba's dictionary and in fewer than two passages
    assert key_terms(["率定", "年作", "林到", "赤字率", "长江"], df) == ["赤字率", "长江"]
    # without passage frequencies nothing is judged
    assert key_terms(["率定", "赤字率"]) == ["率定", "赤字率"]


def test_an_unknown_term_recurring_in_the_archive_is_kept() -> None:
    assert key_terms(["何立峰", "长江"], {"何立峰": 2}) == ["何立峰", "长江"]
    assert key_terms(["何立峰", "长江"], {"何立峰": 1}) == ["长江"]  # its parts are single characters


def test_an_unknown_compound_falls_back_to_its_dictionary_parts() -> None:
    assert key_terms(["长江经济带建设"], {}) == ["长江", "经济带", "建设"]


def test_digits_and_latin_words_are_never_accidents() -> None:
    assert key_terms(["2035", "GDP", "5"], {}) == ["2035", "GDP", "5"]


def test_an_accident_that_recurs_is_still_one_where_a_word_cuts_across_it() -> None:
    """"省人代会上作的": "会上" runs across "上作"; the archive repeats the same cut ("会议上作报告"), so
    passage frequency alone keeps it. A name the dictionary lacks is not cut across and stays."""
    question = "浙江的省政府工作报告是哪天在省人代会上作的？"
    df = {"上作": 9, "浙江": 50, "何立峰": 3}
    assert "上作" in key_terms(["浙江", "上作"], df)  # without the question's text: kept
    assert key_terms(["浙江", "上作"], df, question) == ["浙江"]
    assert key_terms(["何立峰", "上作"], df, "何立峰在会上作的讲话") == ["何立峰"]
    assert key_terms(["赤字率"], {"赤字率": 40}, "财政赤字率定了多少") == ["赤字率"]  # three characters: kept
