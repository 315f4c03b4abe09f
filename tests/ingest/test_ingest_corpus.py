"""Every file of the shared corpus loads, is free of site chrome and splits with exact offsets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ingest import discover, load_document, split_document

# Strings that only page chrome contains (body text may well say 版权 or 分享, so those are not here).
CHROME_MARKERS = [
    "推荐访问", "版权声明", "备案号", "ICP备", "链接地址", "当前位置", "您的位置", "小编", "Copyright",
    "本文标题", "本文移动端", "转载请保留", "免责声明", "来源:网络整理", "Public domain", "公有领域",
    "公有領域", "【字号", "【字体", "扫一扫", "浏览次数", "推荐范文", "点击观看视频", "延伸阅读",
    "责任编辑", "打印本页", "关闭窗口", "分享到",
]  # fmt: skip
CHROME_LINES = {
    "下载",
    "打印",
    "全屏",
    "收藏",
    "加大",
    "还原",
    "减小",
    "【",
    "】",
    "分享",
    "分享:",
    "相关报道：",
    "|",
    ">",
}


@pytest.mark.slow
def test_every_corpus_file_loads_clean_and_splits(corpus_dir: Path) -> None:
    items = discover([corpus_dir])
    assert len(items) >= 227  # 226 documents (the 2 seeds among them) and SOURCES.md
    problems: list[str] = []
    for path, doc_id in items:
        doc = load_document(path, doc_id)
        assert doc.text.strip(), doc_id
        assert doc.title, doc_id
        if doc_id == "SOURCES.md":
            continue  # it describes the chrome, so it names the markers
        found = [m for m in CHROME_MARKERS if m in doc.text]
        lines = set(doc.text.split("\n"))
        found += [f"line {m!r}" for m in CHROME_LINES if m in lines]
        if found:
            problems.append(f"{doc_id}: {found}")
        assert "\n\n" not in doc.text and doc.text == doc.text.strip(), doc_id
        passages = split_document(doc)
        assert passages, doc_id
        covered = 0
        for p in passages:
            assert p.text == doc.text[p.start : p.end], doc_id
            assert len(p.text) <= 500, doc_id
            assert p.start <= covered or not doc.text[covered : p.start].strip(), doc_id
            covered = max(covered, p.end)
        assert not doc.text[covered:].strip(), doc_id
    assert not problems, "\n".join(problems)


@pytest.mark.slow
def test_corpus_metadata(corpus_dir: Path) -> None:
    docs = {doc_id: load_document(path, doc_id) for path, doc_id in discover([corpus_dir])}
    for doc_id, doc in docs.items():
        if doc_id.startswith("gwr_"):
            year = re.search(r"\d{4}", doc_id).group()  # type: ignore[union-attr]
            assert doc.date.startswith(year), (doc_id, doc.date)
            assert "政府工作报告" in doc.title
        if doc_id.startswith("prov2026_"):
            assert doc.date.startswith("2026-"), (doc_id, doc.date)
            assert "人民代表大会" in doc.meeting, (doc_id, doc.meeting)
        if doc_id.startswith("xi_"):
            stamp = doc_id.split("_")[1]
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", doc.date), (doc_id, doc.date)
            assert doc.date[:4] >= "2017", doc_id
            assert not doc.title.endswith("共产党员网")
            assert stamp  # the date in the name is the publishing day; the speech may be older
        if doc_id.startswith(("cpc_", "npc_")):
            assert "维基文库" not in doc.text[-300:], doc_id
    anhui = docs["prov2026_anhui.txt"]
    assert anhui.date == "2026-02-05"
    assert anhui.speaker == "省人民政府省长 王清宪"
    assert anhui.meeting == "安徽省第十四届人民代表大会第四次会议"
    assert docs["prov2026_beijing.csv"].url.startswith("https://")
    assert docs["cpc_congress_19.md"].url.startswith("https://zh.wikisource.org/")
    assert docs["cpc_congress_19.md"].date == "2017-10-18"
    assert docs["gwr_2018.txt"].date == "2018"
    xi = docs["xi_20171025_ARTI1508921834409967.html"]
    assert xi.date == "2017-10-25" and xi.speaker == "习近平"
    assert xi.title.startswith("习近平在十九届中共中央政治局常委同中外记者见面时强调")
    # wiki links were broken over three lines in the source
    assert "根据《中华人民共和国著作权法》" not in docs["gwr_1998.txt"].text  # part of the licence, gone
    assert "劉少奇同志關於憲法草案的報告並進行了" in docs["gwr_1954.txt"].text


def test_one_corpus_file_per_format(corpus_dir: Path) -> None:
    """A fast subset: one file of each kind in the corpus."""
    for name in [
        "gwr_1998.txt",
        "cpc_congress_03.md",
        "prov2026_sichuan.csv",
        "xi_20190111_ARTI1547213936612384.html",
    ]:
        doc = load_document(corpus_dir / name, name)
        for marker in CHROME_MARKERS:
            assert marker not in doc.text, (name, marker)
        for p in split_document(doc):
            assert p.text == doc.text[p.start : p.end]
