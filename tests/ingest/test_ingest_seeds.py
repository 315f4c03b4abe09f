"""The two seed speeches: chrome gone, body kept, metadata right."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest import load_document, split_document

SEED_CHROME = [
    "推荐访问",
    "版权",
    "备案号",
    "链接地址",
    "当前位置",
    "小编",
    "Copyright",
    "您的位置",
    "本文移动端",
    "转载请保留",
]


@pytest.fixture(scope="module")
def seed_000(corpus_dir: Path):
    return load_document(corpus_dir / "seed_000.txt", "seed_000.txt")


@pytest.fixture(scope="module")
def seed_004(corpus_dir: Path):
    return load_document(corpus_dir / "seed_004.txt", "seed_004.txt")


@pytest.mark.parametrize("marker", SEED_CHROME)
def test_seed_chrome_removed(seed_000, seed_004, marker: str) -> None:
    assert marker not in seed_000.text
    assert marker not in seed_004.text


def test_seed_000_body_and_metadata(seed_000) -> None:
    assert "共享单车" in seed_000.text
    assert "三不当" in seed_000.text
    assert seed_000.text.rstrip().endswith("今天的会议就到这里,谢谢大家,散会。")
    assert seed_000.title == "2022年度在市城管局局长办公会上讲话"
    assert seed_000.date == "2022-09-20"
    assert seed_000.url == "https://www.senjie2201.com/zhuantifanwen/jianghuagao/19830.html"
    assert seed_000.speaker == "局长"
    assert "局长办公会" in seed_000.meeting
    assert seed_000.format == "txt"
    assert len(seed_000.sha256) == 64
    # the title appeared twice at the top of the page: once is enough
    assert seed_000.text.count("2022年度在市城管局局长办公会上讲话") == 1


def test_seed_004_body_and_metadata(seed_004) -> None:
    assert "集体决策" in seed_004.text
    assert seed_004.text.endswith("我今天就讲这么多,谢谢!")
    assert seed_004.title == "区长在区政府干部会议上的讲话_加强工作规范注重工作方法"
    assert seed_004.date == "2020-11-18"
    assert seed_004.url == "http://www.850500.com/news/212232.html"
    assert seed_004.speaker == "区长"
    assert seed_004.meeting == "区政府干部会议"
    assert seed_004.text.count("区长在区政府干部会议上的讲话_加强工作规范注重工作方法") == 1
    assert "百味书屋" not in seed_004.text


def test_seed_passages(seed_000, seed_004) -> None:
    for doc in (seed_000, seed_004):
        passages = split_document(doc)
        assert passages
        for p in passages:
            assert p.text == doc.text[p.start : p.end]
            assert p.page == 0
        sections = {p.section for p in passages}
        assert any(s.startswith(("一、", "二、", "三、")) for s in sections)
    sections_000 = [p.section for p in split_document(seed_000)]
    assert any(s.startswith("三、扎实做好") for s in sections_000)
