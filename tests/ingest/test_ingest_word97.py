"""Word 97 .doc and WPS .wps files (issue 15), built byte by byte (tests/support/ingest_builders.py): antiword
and catdoc each read the exact paragraphs, a .wps of Word-97-compatible bytes reads like the .doc, and in an
archive indexed into a real Chroma store a question on each file cites that file with the fact in the cited text.

antiword and catdoc are installed by scripts/setup.sh: without them these tests fail, they do not skip."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ingest import load_document
from ingest.doc_extract import COMMANDS, OLE_MAGIC, read_doc
from tests.support.ingest_builders import make_doc, word97_bytes

MEETING = [
    "青禾市人民政府第十七次常务会议纪要",
    "2025年3月12日，市长林建平主持召开市政府第十七次常务会议，听取一季度经济运行情况汇报，研究城区老旧供水管网"
    "改造和农贸市场提升等事项。现将会议决定事项纪要如下。",
    "一、会议听取了市发展改革委关于一季度经济运行情况的汇报。会议指出，一季度全市经济运行总体平稳，工业生产稳中有升，"
    "消费市场持续回暖。各部门要盯紧全年目标，抓好重点项目建设。",
    "二、会议审议通过《城区老旧供水管网改造三年行动方案》。今年改造城区老旧供水管网186公里，总投资4.37亿元，"
    "由市水务集团负责实施，市住房和城乡建设局负责质量监督，9月30日前完成第一批83公里。",
    "三、会议同意对全市27个农贸市场开展提升改造，由市商务局牵头，各区政府配合，重点改善排水、通风和消防设施，"
    "年底前全部完成。",
    "四、会议研究了春季学校周边交通安全工作，要求公安交警和教育部门在上下学高峰时段加强疏导，严查违法停车。",
    "五、会议要求各部门加强协调配合，每月10日前向市政府办公室报送工作进展情况。",
]
NOTICE = [
    "关于做好2025年春季森林防火工作的通知",
    "各乡镇人民政府，市直有关部门：",
    "当前已进入春季森林防火紧要期，气温回升快，降水偏少，火险等级持续偏高。为切实做好防火工作，现就有关事项通知如下。",
    "一、全市新建森林防火蓄水池64座，配备风力灭火机320台，由市林业局统一调配，4月15日前全部到位。",
    "二、清明节期间，各乡镇要在主要进山路口设立临时检查站，严禁携带火种进山，严防人为引发火灾。",
    "三、各地要严格执行24小时值班和领导带班制度，发现火情立即报告，做到打早、打小、打了。",
]
GAS = (
    "关于城区燃气管网安全改造的工作汇报\n\n"
    "2025年2月，市城市管理局对城区燃气管网开展了全面排查。今年计划改造城区老旧燃气管网52公里，"
    "由市燃气公司负责实施，同步更换居民用户老化燃气软管一万二千户。各区要做好施工期间的交通疏导和群众解释工作。\n"
)
GREEN = (
    "在全市城乡绿化工作会议上的讲话\n\n"
    "同志们：今年全市新增城市绿地三百二十公顷，建成口袋公园四十五个，城市绿化覆盖率达到百分之四十三。"
    "下一步，各区要坚持见缝插绿、拆违建绿，让群众推窗见绿、出门进园。\n"
)


def _require(program: str) -> None:
    if shutil.which(program) is None:
        pytest.fail(f"{program} is not installed: scripts/setup.sh installs it (apt-get install {program})")


def _lines(text: str) -> list[str]:
    return text.strip("\n").split("\n")


@pytest.mark.parametrize(("program", "args"), COMMANDS, ids=[program for program, _ in COMMANDS])
def test_each_program_reads_the_exact_paragraphs(program: str, args: list[str]) -> None:
    """The bytes are a genuine Word 97 file: antiword (piece table) and catdoc (text run of the FIB) alone."""
    _require(program)
    data = word97_bytes(MEETING)
    assert data.startswith(OLE_MAGIC)
    raw = read_doc(data, commands=((program, args),))
    assert _lines(raw.pages[0]) == MEETING


def test_wps_reads_like_doc(tmp_path: Path) -> None:
    """WPS Office saves .wps as Word 97 bytes; antiword and catdoc go by content, so the extension is no matter."""
    _require("antiword")
    doc = load_document(make_doc(tmp_path / "notice.doc", NOTICE), "notice.doc")
    wps = load_document(make_doc(tmp_path / "notice.wps", NOTICE), "notice.wps")
    assert (tmp_path / "notice.doc").read_bytes() == (tmp_path / "notice.wps").read_bytes()
    assert wps.text == doc.text and wps.title == doc.title == NOTICE[0]
    assert all(paragraph in wps.text for paragraph in NOTICE[1:])


@dataclass(frozen=True)
class Case:
    question: str
    doc_id: str
    fact: str


CASES = [
    Case("城区老旧供水管网改造多少公里？", "meeting.doc", "186公里"),
    Case("供水管网改造由哪个单位负责实施？", "meeting.doc", "市水务集团"),
    Case("全市多少个农贸市场开展提升改造？", "meeting.doc", "27个"),
    Case("春季森林防火要新建多少座蓄水池？", "notice.wps", "64座"),
]


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    """A .doc, a .wps and two text files indexed with the real model into a real Chroma store, and a QA."""
    from bot.qa import QA
    from core.settings import Settings
    from vectorstore.archive import Archive

    _require("antiword")
    root = tmp_path_factory.mktemp("word97")
    folder = root / "archive"
    folder.mkdir()
    make_doc(folder / "meeting.doc", MEETING)
    make_doc(folder / "notice.wps", NOTICE)
    (folder / "gas.txt").write_text(GAS, encoding="utf-8")
    (folder / "green.txt").write_text(GREEN, encoding="utf-8")
    settings = Settings(db=root / "db")
    archive = Archive(settings)
    report = archive.index_paths([folder])
    assert report.count("indexed") == 4 and not report.failed, report.summary()
    return archive, QA(settings, archive=archive)


def test_documents_hold_every_paragraph(indexed: tuple[Any, Any]) -> None:
    archive, _ = indexed
    for doc_id, paragraphs in (("meeting.doc", MEETING), ("notice.wps", NOTICE)):
        doc = archive.document(doc_id)
        assert doc.title == paragraphs[0] and doc.page_starts == []
        assert all(paragraph in doc.text for paragraph in paragraphs[1:]), doc.text


@pytest.mark.parametrize("case", CASES, ids=[f"{c.doc_id}-{c.fact}" for c in CASES])
def test_question_cites_the_word_file(indexed: tuple[Any, Any], case: Case) -> None:
    _, qa = indexed
    answer = qa.ask(case.question)
    assert not answer.refused, answer.answer
    top = answer.citations[0]
    assert (top.doc_id, top.page) == (case.doc_id, 0), [(c.doc_id, c.page, c.text) for c in answer.citations]
    assert case.fact in top.text and case.fact in answer.answer, answer.answer
