"""Near-duplicate passages: the same speech under two paths, or re-published with another header line, is cited
once with the other copies named; documents that merely share a sentence stay separate citations."""

from __future__ import annotations

import pytest

from tests.support.archives import write
from vectorstore.dedup import near_duplicate

SPEECH = """在市城管局局长办公会上的讲话
各位同志：
今天我们召开局长办公会，主要是研究部署下半年的重点工作。上半年，全局上下围绕市委市政府的决策部署，扎实推进城市精细化管理，各项工作取得了明显成效。
第一，关于门头牌匾整治。全市共完成门头牌匾整治四千二百余块，主次干道沿街立面明显改观。下一步，各区城管部门要建立牌匾设置审批台账，做到一店一档，防止整治后反弹。
第二，关于潮汐停车位。今年以来，我们会同交警部门在医院、学校周边试点设置潮汐停车位一千三百个，夜间向周边居民开放，缓解了老旧小区停车难问题。年底前要扩大到三千个，并在停车诱导屏上实时公布空余泊位。
第三，关于综合行政执法体制改革。要按照市委常委会的要求，年内完成执法队伍整合，实现一支队伍管执法。执法人员要全部持证上岗，执法全过程记录，严禁以罚代管。
第四，关于生活垃圾分类。要把垃圾分类纳入街道考核，推行定时定点投放，厨余垃圾分出率达到百分之二十以上。对混装混运的收运单位，要依法予以处罚。
同志们，下半年任务繁重，各部门要守土有责、真抓实干，确保各项任务落到实处。
"""
REPUBLISHED = "来源：市城管局网站　发布时间：2022-09-20　浏览次数：1532\n" + SPEECH
# Two different notices closing with the same stock sentence.
COMMON = "各单位要高度重视，加强组织领导，确保各项任务按时保质完成。"
LIBRARY = ("关于建设城市书房的通知\n全市今年新建城市书房二十六家，每家藏书不少于一万册，实行二十四小时自助借阅，"
           "由市文化广电旅游局负责建设和运营管理。" + COMMON + "\n")
MARKET = ("关于农贸市场改造提升的通知\n全市今年改造提升农贸市场十八个，统一安装智慧计量和食品安全快检设备，"
          "由市市场监管局牵头、各区政府具体实施。" + COMMON + "\n")
COPIES = {"2022/speech.txt", "archive/speech.txt", "republished.txt"}


@pytest.mark.parametrize("a,b", [
    (SPEECH, SPEECH),
    (REPUBLISHED[:260], SPEECH[:240]),  # the first passage, with and without the header line
    (SPEECH.replace("\n", "\n\n"), SPEECH),  # the same words laid out differently
])
def test_same_text_is_a_near_duplicate(a: str, b: str) -> None:
    assert near_duplicate(a, b) and near_duplicate(b, a)


@pytest.mark.parametrize("a,b", [
    (LIBRARY, MARKET),  # one common sentence only
    (SPEECH[:300], SPEECH[200:500]),  # neighbouring passages of one text
    (SPEECH.replace("一千三百个", "一千五百个"), SPEECH),  # a changed figure is another statement
    ("", SPEECH),
])
def test_different_texts_are_not_near_duplicates(a: str, b: str) -> None:
    assert not near_duplicate(a, b) and not near_duplicate(b, a)


@pytest.fixture(scope="module")
def qa(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    from bot.qa import QA
    from core.settings import Settings
    from vectorstore.archive import Archive

    folder = tmp_path_factory.mktemp("dups") / "docs"
    for name in ("2022/speech.txt", "archive/speech.txt"):
        write(folder, name, SPEECH)
    write(folder, "republished.txt", REPUBLISHED)
    write(folder, "library.txt", LIBRARY)
    write(folder, "market.txt", MARKET)
    settings = Settings(db=folder.parent / "db")
    archive = Archive(settings)
    report = archive.index_paths([folder])
    assert report.count("indexed") == 5, report.summary()
    return QA(settings, archive=archive)



@pytest.mark.slow
@pytest.mark.parametrize("question,needle", [
    ("潮汐停车位年底前要扩大到多少个？", "潮汐停车位一千三百个"),
    ("门头牌匾整治后各区要建立什么台账？", "牌匾设置审批台账"),
])
def test_a_passage_held_by_three_copies_is_cited_once_with_the_copies_named(qa, question: str, needle: str) -> None:  # noqa: ANN001
    hits = qa.retrieve(question).hits
    holding = [h for h in hits if needle in h.text]
    assert len(holding) == 1, [(h.doc_id, h.text[:30]) for h in hits]
    first = hits[0]
    assert first is holding[0]
    assert {first.doc_id, *first.copies} == COPIES and first.doc_id not in first.copies
    for i, h in enumerate(hits):  # the k citations are k different texts
        assert not any(near_duplicate(h.text, g.text) for g in hits[i + 1 :])
    # the answer's citations carry the copies (Citation.copies, in to_dict)
    ans = qa.ask(question)
    cited = [c for c in ans.citations if needle in c.text]
    assert len(cited) == 1 and set(cited[0].to_dict()["copies"]) == COPIES - {cited[0].doc_id}


@pytest.mark.slow
def test_documents_sharing_one_sentence_stay_separate_citations(qa) -> None:  # noqa: ANN001
    hits = qa.retrieve("确保各项任务按时保质完成的通知有哪些？").hits
    docs = [h.doc_id for h in hits]
    assert {"library.txt", "market.txt"} <= set(docs), docs
    for h in hits:
        if h.doc_id in ("library.txt", "market.txt"):
            assert h.copies == []
