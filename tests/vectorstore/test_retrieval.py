"""Retrieval behaviours pinned on small archives, with the real model and a real Chroma store."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.archives import qa_over

pytestmark = pytest.mark.slow

REPORT = """{year}年临江区人民政府工作报告
各位代表：
现在，我代表区人民政府向大会报告工作。
一、过去一年工作回顾
全区地区生产总值增长{growth}%，新建公共停车泊位{spaces}个，改造老旧小区{estates}个。
二、今年主要任务
推进城市更新，加强社区养老服务，全年新增就业岗位{jobs}个。
"""


@pytest.fixture
def qa(tmp_path: Path, make_settings):  # noqa: ANN001, ANN201
    return qa_over(tmp_path / "docs", make_settings(), {
        "report_2016.txt": REPORT.format(year=2016, growth="7.1", spaces="1200", estates="35", jobs="8000"),
        "report_2017.txt": REPORT.format(year=2017, growth="6.8", spaces="1500", estates="42", jobs="9000"),
        "fullwidth.txt": "关于电梯加装的通知\n全区今年计划为老旧住宅加装电梯１２０部，由区住建局负责。\n",
        "traditional.md": "# 關於水廠擴建的會議紀要\n會議決定，擴建東郊水廠，日供水能力提高到三十萬噸，由區水務局牽頭。\n",
        "other.txt": "青川市文化旅游节筹备会议\n会议确定文化旅游节于十月举办，由市文旅局承办，预算八百万元。\n",
    })[0]


def test_half_width_digits_find_full_width_document(qa) -> None:  # noqa: ANN001
    hits = qa.retrieve("加装电梯120部由哪个部门负责？", mode="keyword").hits
    assert hits and hits[0].doc_id == "fullwidth.txt"
    ans = qa.ask("加装电梯120部由哪个部门负责？")
    assert not ans.refused and ans.citations[0].doc_id == "fullwidth.txt"
    assert "１２０" in ans.citations[0].text  # shown as the document has it


def test_simplified_question_finds_traditional_document(qa) -> None:  # noqa: ANN001
    hits = qa.retrieve("东郊水厂扩建后日供水能力是多少？", mode="keyword").hits
    assert hits and hits[0].doc_id == "traditional.md"
    ans = qa.ask("东郊水厂扩建后日供水能力是多少？")
    assert not ans.refused and ans.citations[0].doc_id == "traditional.md"
    assert "擴建" in ans.citations[0].text


@pytest.mark.parametrize("year,other", [(2016, 2017), (2017, 2016)])
def test_question_naming_a_year_ranks_that_years_report_first(qa, year: int, other: int) -> None:  # noqa: ANN001
    ans = qa.ask(f"{year}年临江区新建了多少个公共停车泊位？")
    docs = [c.doc_id for c in ans.citations]
    assert docs[0] == f"report_{year}.txt"
    if f"report_{other}.txt" in docs:
        assert docs.index(f"report_{year}.txt") < docs.index(f"report_{other}.txt")


def test_year_filter_restricts_results(qa) -> None:  # noqa: ANN001
    ans = qa.ask("新建公共停车泊位多少个？", where={"year": "2017"})
    assert ans.citations and {c.doc_id for c in ans.citations} == {"report_2017.txt"}


def test_off_archive_question_is_refused(qa) -> None:  # noqa: ANN001
    ans = qa.ask("第七次全国人口普查的标准时点是哪一天？")
    assert ans.refused and not ans.citations


def test_facets_list_document_years(qa) -> None:  # noqa: ANN001
    assert {"2016", "2017"} <= set(qa.facets()["year"])


def test_plain_component_modes_use_one_ranking_without_focusing(qa) -> None:  # noqa: ANN001
    question = "十八大以来临江区新建了多少个公共停车泊位？"
    focused = qa.retrieve(question, mode="keyword")
    bm25 = qa.retrieve(question, mode="bm25")
    vector = qa.retrieve(question, mode="vector")
    assert bm25.hits and vector.hits
    assert bm25.keyword_docs and not bm25.dense_docs  # one ranking each
    assert vector.dense_docs and not vector.keyword_docs
    # the plain ranking reads the question as written: no alias expansion ("十八大" spelled out)
    assert set(bm25.tokens) < set(focused.tokens)


def test_focused_search_counts_a_passage_once_at_its_better_rank(qa) -> None:  # noqa: ANN001
    from vectorstore.query import analyse

    r = qa.retriever
    kw = qa.archive.keyword()
    metas, _ = r._docs(kw)
    a, b, c, d = (row.passage_id for row in kw.rows[:4])
    # a leads both whole-archive rankings; d is last there but first when its document is searched alone
    lists = [("keyword", 0.5, [a, b, c, d]), ("dense", 0.5, [a, b, c, d]),
             ("keyword", 0.5, [d, c]), ("dense", 0.5, [d, c])]

    def scores(fusion: str) -> dict[str, float]:
        r.settings = qa.settings.model_copy(update={"focus_fusion": fusion})
        return {p: s for s, p in r._fuse(lists, kw, metas, analyse(""), {})}

    best, summed = scores("best"), scores("sum")
    r.settings = qa.settings
    assert best[a] >= best[d] and best[d] > best[b]  # rescued from last place, but not above the leader
    assert summed[d] > summed[a]  # adding the lists up crowds the leader out


def test_passage_saying_what_the_question_says_goes_first(qa) -> None:  # noqa: ANN001
    r = qa.retriever
    kw = qa.archive.keyword()
    texts = r.texts()
    first = {row.doc_id: row.passage_id for row in reversed(kw.rows)}
    lead, other = first["report_2017.txt"], first["other.txt"]
    scored = [(0.0170, other), (0.0165, lead)]  # fused scores a little apart, the wrong one ahead
    question = "文化旅游节由哪个部门承办？"
    reranked = [p for _, p in r._phrase_rerank(scored, question, kw, texts)]
    assert reranked == [other, lead]
    question = "临江区今年主要任务里新增就业岗位多少个？"
    reranked = [p for _, p in r._phrase_rerank(scored, question, kw, texts)]
    assert reranked == [lead, other]
    r.settings = qa.settings.model_copy(update={"phrase_weight": 0.0})
    assert r.search(question).hits  # the rerank is a setting; off, search still works
    r.settings = qa.settings


def test_a_year_the_archive_does_not_cover_is_named_in_the_refusal(qa) -> None:  # noqa: ANN001
    ans = qa.ask("2019年临江区新建了多少个公共停车泊位？")
    assert ans.refused and "“2019”" in ans.answer


def test_this_year_on_a_topic_the_archive_has_only_last_year_on_is_read_as_last_year(tmp_path: Path,
                                                                                     make_settings) -> None:  # noqa: ANN001
    """Documents are filed after the fact: "今年" about a topic with nothing of this year yet is last year's,
    said in the answer; a topic this year's documents do hold stays this year's; two years back is refused."""
    from datetime import date

    this_year = date.today().year
    qa, archive = qa_over(tmp_path / "docs", make_settings(), {
        "spaces_last.txt": f"{this_year - 1}年青川市停车设施建设情况\n全市新建公共停车泊位1500个。\n",
        "spaces_before.txt": f"{this_year - 2}年青川市停车设施建设情况\n全市新建公共停车泊位1200个。\n",
        "jobs_now.txt": f"{this_year}年青川市就业工作要点\n全市新增城镇就业岗位9000个。\n",
        "chargers_last.txt": f"{this_year - 1}年青川市新能源汽车推广情况\n全市新建充电桩800个。\n",
        "chargers_now.txt": f"{this_year}年青川市新能源汽车推广计划\n全市继续推进充电桩建设，方便市民出行。\n",
    })
    ans = qa.ask("青川市今年新建了多少个公共停车泊位？")
    assert not ans.refused, ans.answer
    assert "1500" in ans.units[0].text and ans.citations[0].doc_id == "spaces_last.txt"
    assert f"资料库中没有{this_year}年的相关资料，“今年”按{this_year - 1}年理解" in ans.answer
    # this year's documents speak of the topic but give no figure: last year's answer, said so
    ans = qa.ask("青川市今年新建了多少个充电桩？")
    assert not ans.refused and "800" in ans.units[0].text, ans.answer
    assert f"“今年”按{this_year - 1}年理解" in ans.answer
    ans = qa.ask("青川市今年新增多少个城镇就业岗位？")
    assert not ans.refused and "9000" in ans.answer and f"“今年”按{this_year}年理解" in ans.answer
    assert archive.remove("spaces_last.txt")
    ans = qa.ask("青川市今年新建了多少个公共停车泊位？")
    assert ans.refused and f"“{this_year}年”" in ans.answer, ans.answer  # not read back two years


def test_a_question_about_a_province_cites_that_provinces_report_before_anothers(tmp_path: Path,
                                                                               make_settings) -> None:  # noqa: ANN001
    qa, _ = qa_over(tmp_path / "docs", make_settings(), {
        "yunnan.txt": "2026年云南省政府工作报告\n今年地区生产总值增长预期目标为5%左右。地区生产总值增长预期目标的确定，"
                      "统筹考虑了需要和可能。\n",
        "hainan.txt": "2026年海南省政府工作报告\n今年全省经济增长6%左右，推进自由贸易港建设。\n",
        "national.txt": "2026年国务院政府工作报告\n国内生产总值增长5%左右。\n",
    })
    question = "海南省2026年地区生产总值的增长预期目标是多少？"
    raw = [h.doc_id for h in qa.retriever.search(question).hits]
    assert raw.index("yunnan.txt") < raw.index("hainan.txt")  # by words alone, the other province's report leads
    cited = [h.doc_id for h in qa.retrieve(question).hits]
    assert cited.index("hainan.txt") < cited.index("yunnan.txt")
    assert cited.index("national.txt") < cited.index("yunnan.txt")  # a report naming no province is not moved
    assert [h.doc_id for h in qa.retrieve("地区生产总值增长预期目标是多少？").hits] == \
        [h.doc_id for h in qa.retriever.search("地区生产总值增长预期目标是多少？").hits]  # no province named


MEETING_DOCS = {
    "report.txt": "2017年政府工作报告\n——2017年3月5日在第十二届全国人民代表大会第五次会议上\n各位代表：2017年底，"
                  "中央经济工作会议将部署明年工作。落实中央经济工作会议精神，开好2017年中央经济工作会议。\n",
    "news.txt": "中央经济工作会议在北京举行\n会议12月18日至20日举行，习近平发表重要讲话。\n",
}
RESOLUTION_DOCS = {
    "report.txt": "2009年政府工作报告\n——2009年3月5日在第十一届全国人民代表大会第二次会议上\n全国人民要以优异成绩"
                  "迎接新中国成立60周年。全国人大批准政府工作报告后，全国人民要以优异成绩迎接新的胜利。\n",
    "resolution.txt": "第十一届全国人民代表大会第二次会议关于政府工作报告的决议\n会议号召全国各族人民，"
                      "以优异成绩迎接中华人民共和国成立60周年。\n",
}


@pytest.mark.parametrize(("files", "question", "titled"), [
    (MEETING_DOCS, "2017年底召开的中央经济工作会议是哪几天开的？", "news.txt"),
    (RESOLUTION_DOCS, "2009年全国人大批准政府工作报告的决议，号召全国人民以优异成绩迎接什么？", "resolution.txt"),
])
def test_a_question_naming_a_meeting_or_a_resolution_cites_the_documents_titled_by_it_first(
        tmp_path: Path, make_settings, files: dict[str, str], question: str, titled: str) -> None:  # noqa: ANN001
    qa, _ = qa_over(tmp_path / "docs", make_settings(), files)
    assert [h.doc_id for h in qa.retriever.search(question).hits][0] == "report.txt"  # by words alone
    assert [h.doc_id for h in qa.retrieve(question).hits][0] == titled


def test_a_warmed_archive_analyses_no_document_while_answering(qa) -> None:  # noqa: ANN001
    """`QA.warm` (run when the app starts and before the eval's timings) analyses every document once: a
    question then finds each cited document's enumerations and squashed text ready."""
    from bot import answer

    answer._flat.cache_clear()
    answer._enumerations.cache_clear()
    qa.warm()
    flat, enums = answer._flat.cache_info().misses, answer._enumerations.cache_info().misses
    got = qa.ask("东郊水厂扩建后日供水能力提高到多少？")
    assert not got.refused and "三十萬噸" in got.answer, got.answer
    assert answer._flat.cache_info().misses == flat and answer._enumerations.cache_info().misses == enums
