"""split_document: exact offsets, full coverage, bounded size and overlap, boundaries and sections."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest import Document, split_document
from ingest.split import inside_number

CJK = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严"
PUNCT = "。，、；：！？…“”‘’（）《》「」——"
ALPHABET = CJK[:120] + PUNCT + "0123456789０１２３.%abcXYZ" + " \n\n\n\t\u3000"


def _check(doc: Document, size: int, overlap: int) -> None:
    passages = split_document(doc, size=size, overlap=overlap)
    text = doc.text
    nonspace = [i for i, ch in enumerate(text) if not ch.isspace()]
    if not nonspace:
        assert passages == []
        return
    assert passages[0].start == nonspace[0]
    assert passages[-1].end == nonspace[-1] + 1
    covered = passages[0].start
    for i, p in enumerate(passages):
        assert p.index == i
        assert p.text == text[p.start : p.end]
        assert p.text and not p.text[0].isspace() and not p.text[-1].isspace()
        assert len(p.text) <= 2 * size
        assert p.start <= covered or not text[covered : p.start].strip(), "a gap between passages"
        covered = max(covered, p.end)
        if i:
            prev = passages[i - 1]
            assert p.start > prev.start and p.end > prev.end
            assert prev.end - p.start <= overlap + overlap // 2 + 1, "overlap too large"


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=st.text(alphabet=ALPHABET, max_size=1500),
    size=st.integers(min_value=20, max_value=300),
    overlap_share=st.floats(min_value=0.0, max_value=0.5),
)
def test_split_properties(text: str, size: int, overlap_share: float) -> None:
    overlap = int(size * overlap_share)
    _check(Document(doc_id="x", text=text, title="t"), size, overlap)


@settings(max_examples=150, deadline=None, database=None)
@given(text=st.text(max_size=800), size=st.integers(min_value=1, max_value=60), overlap=st.integers(0, 200))
def test_split_any_unicode_any_size(text: str, size: int, overlap: int) -> None:
    """Any characters at all (surrogates, controls, combining marks), tiny sizes, overlap > size."""
    passages = split_document(Document(doc_id="x", text=text, title="t"), size=size, overlap=overlap)
    covered = 0
    for p in passages:
        assert p.text == text[p.start : p.end]
        assert len(p.text) <= 2 * size
        assert not text[covered : p.start].strip()
        covered = max(covered, p.end)
    assert not text[covered:].strip()


def test_default_sizes_on_a_speech() -> None:
    paragraph = "我们要坚持稳中求进工作总基调，完整准确全面贯彻新发展理念，加快构建新发展格局。2025年国内生产总值增长5.1%，城镇新增就业1256万人。"
    text = "\n".join(["一、2024年工作回顾", *([paragraph] * 6), "二、2025年政府工作任务", *([paragraph] * 6)])
    doc = Document(doc_id="d", text=text, title="报告")
    passages = split_document(doc)
    for p in passages:
        assert 100 <= len(p.text) <= 500 or p is passages[-1]
        assert p.text[-1] in "。！？；…”" or p is passages[-1], p.text  # ends at a sentence end
        assert p.section in ("一、2024年工作回顾", "二、2025年政府工作任务")
    assert passages[0].section == "一、2024年工作回顾"
    assert passages[-1].section == "二、2025年政府工作任务"
    for a, b in zip(passages, passages[1:], strict=False):
        assert 0 < a.end - b.start <= 75


def test_never_splits_inside_a_number() -> None:
    text = "，".join(f"第{i}项指标为134{i}.5678万元" for i in range(200))
    doc = Document(doc_id="n", text=text, title="n")
    for p in split_document(doc, size=50, overlap=10):
        assert not inside_number(text, p.start), text[p.start - 5 : p.start + 5]
        assert not inside_number(text, p.end), text[p.end - 5 : p.end + 5]


def test_inside_number() -> None:
    text = "增长5.1%，达到1,256万人，时间10:30，1 9 9 7年，一九四九年。"
    for number in ["5.1%", "1,256", "10:30", "1 9 9 7", "一九四九"]:
        start = text.index(number)
        for p in range(start + 1, start + len(number)):
            assert inside_number(text, p), (number, p)
    assert not inside_number(text, text.index("，"))


def test_headings_recognised() -> None:
    lines = [
        "# 标题一",
        "一、第一部分",
        "（二）分项内容。后面是正文，很长很长。",
        "第三章 总则",
        "结束语",
        "这是一个很长的正文段落，不应该被当作标题，因为它以句号结尾，而且很长。",
    ]
    doc = Document(doc_id="h", text="\n".join(lines), title="h")
    sections = [p.section for p in split_document(doc, size=5, overlap=0)]
    for expected in ["标题一", "一、第一部分", "（二）分项内容", "第三章 总则", "结束语"]:
        assert expected in sections
    assert not any(s.startswith("这是一个很长") for s in sections)


def test_single_long_line_fast() -> None:
    text = "我们要坚持以人民为中心的发展思想推动高质量发展" * 15000  # 330k characters, no punctuation
    doc = Document(doc_id="l", text=text, title="l")
    started = time.perf_counter()
    passages = split_document(doc)
    assert time.perf_counter() - started < 5
    assert all(p.text == text[p.start : p.end] and len(p.text) <= 500 for p in passages)
    assert passages[-1].end == len(text)


@pytest.mark.slow
def test_5mb_single_line_file(tmp_path: Path) -> None:
    from ingest import load_document

    path = tmp_path / "one_line.txt"
    path.write_text(
        ("会议强调，要坚持稳中求进工作总基调，2025年增长5.1%" * 200_000)[: 5 * 2**20 // 3], encoding="utf-8"
    )
    doc = load_document(path, path.name)
    assert "\n" not in doc.text
    passages = split_document(doc)
    assert passages[-1].end == len(doc.text)
    assert all(len(p.text) <= 500 for p in passages)
    for p in passages[:: max(1, len(passages) // 500)]:
        assert p.text == doc.text[p.start : p.end]


def _paged(pages: list[str]) -> Document:
    starts, offset = [], 0
    for page in pages:
        starts.append(offset)
        offset += len(page) + 1
    return Document(doc_id="scan.pdf", text="\n".join(pages), title="t", page_starts=starts)


def test_a_passage_never_runs_across_a_page_break() -> None:
    """A page break in the middle of what would be one passage: each page is split on its own, so a
    citation's page is the page of all its text (and a scanned page boxes lines of that page only)."""
    sentence = "市政府决定加快推进城市更新行动，完善基础设施和公共服务配套。"
    doc = _paged([sentence * 6, sentence * 4 + "各区要抓好落实。", "附件：项目清单。"])
    passages = split_document(doc, size=250, overlap=50)
    _check(doc, 250, 50)
    assert [p.page for p in passages] == [1, 2, 3]
    for p in passages:
        assert doc.page_of(p.start) == doc.page_of(p.end - 1) == p.page, p


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(pages=st.lists(st.text(alphabet=ALPHABET, max_size=500), min_size=1, max_size=5),
       size=st.integers(min_value=20, max_value=300))
def test_paged_split_properties(pages: list[str], size: int) -> None:
    doc = _paged(pages)
    _check(doc, size, size // 5)
    for p in split_document(doc, size=size, overlap=size // 5):
        assert doc.page_of(p.start) == doc.page_of(p.end - 1) == p.page
