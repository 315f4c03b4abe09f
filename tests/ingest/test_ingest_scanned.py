"""Scans, photos, OFD and spreadsheets (issue 15): a generated archive of degraded Chinese pages indexed into a
real Chroma store, questions answered by the real QA, each citing the right file and page with the fact in
the cited text; the OCR cache; the character accuracy of the OCR on the degraded pages (printed, >= 98%)."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ingest import load_document
from ingest.ocr import OcrOptions
from tests.support.ingest_builders import (
    char_accuracy,
    jpeg_roundtrip,
    make_ofd,
    make_scanned_pdf,
    make_tiff,
    make_xlsx,
    render_page,
)


def wrap(text: str, width: int = 28) -> list[str]:
    """Text cut into lines as a typed page has them."""
    return [text[i : i + width] for i in range(0, len(text), width)]


# Full pages: every fact sits low on its page, so the passage holding it starts on that page.
RIVER = (
    "近年来，我市坚持生态优先、绿色发展，把河道治理作为改善人居环境的重要抓手。各级河长认真履行职责，定期开展巡河检查，"
    "及时发现和处置河道垃圾、违法排污等问题。市水务局会同相关部门建立联合执法机制，加大对沿河企业排污口的监管力度，"
    "督促落实雨污分流改造。各区积极推进沿河绿道和滨水公园建设，让群众共享治理成果。下一步，要完善长效管护机制，落实日常"
    "保洁和设施维护经费，鼓励社会公众参与监督。对工作不力、问题整改不到位的，要严肃追责问责，确保各项任务落到实处。"
    "今年汛期，各区要提前做好防汛物资储备和应急队伍建设，加强对低洼地段和易涝点的巡查，确保安全度汛。同时，要加强河道"
    "水质监测，在重点断面增设自动监测站，实现水质数据实时上传，为科学决策提供依据。"
)
HEAT = (
    "为切实做好今冬明春供暖保障工作，确保群众温暖过冬，经研究，决定在全区范围内开展供暖安全专项检查。检查内容包括换热站"
    "运行状况、供热管网老化破损情况、用户室内温度达标情况以及应急抢修队伍和物资储备情况。"
)
SCHOOL = (
    "会议指出，今年以来全区教育事业发展态势良好，义务教育优质均衡发展取得新进展，课后服务实现全覆盖，教师队伍建设不断加强。"
    "会议强调，要坚持以人民为中心的发展思想，着力解决群众急难愁盼问题，努力让每个孩子都能享有公平而有质量的教育。"
    "会议还研究了校园周边交通安全整治工作，要求公安、交通、教育等部门密切配合，在上下学高峰时段加强疏导。"
)
BUDGET = (
    "会议审议了全区重大项目推进情况，要求各项目牵头单位倒排工期、挂图作战，确保按计划节点完成建设任务。对进度滞后的项目，"
    "区督查室要跟踪督办，定期通报。会议强调，要严格执行财经纪律，规范政府投资项目管理，切实提高财政资金使用效益。"
    "会议还听取了安全生产工作汇报，要求各部门压实安全责任，深入开展隐患排查整治，坚决遏制重特大事故发生。"
)
LIFT = (
    "各区要对辖区内使用年限超过十五年的住宅电梯开展全面排查，摸清底数，建立改造项目清单。改造工作坚持业主自愿、政府引导、"
    "市场运作的原则，鼓励采取加装、更新、大修等多种方式实施。各有关部门要加强协调配合，简化审批流程，做好施工期间的安全管理"
    "和居民出行保障工作。"
)
APPLY = (
    "申请补助的项目，由电梯使用管理单位或者业主委员会向所在区住房和城乡建设部门提出，并提交改造方案、业主同意改造的证明材料、"
    "施工合同和资金筹集方案。区住房和城乡建设部门应当在受理后十个工作日内完成审核。审核通过的项目，在完工并经验收合格后"
    "拨付补助资金。对弄虚作假、骗取补助资金的，依法追回已拨付资金，并纳入信用记录。各区财政部门要会同住房和城乡建设部门"
    "做好资金测算，将补助资金纳入年度预算，按照项目进度及时拨付，并定期向社会公开补助项目名单和资金使用情况，主动接受"
    "群众监督。申请单位对审核结果有异议的，可以在收到审核结果之日起五个工作日内申请复核。区住房和城乡建设部门应当自收到复核"
    "申请之日起五个工作日内作出复核决定，并书面告知申请单位。电梯改造完成后，使用管理单位应当及时办理使用登记变更手续。"
)

REPORT_PAGE = ["关于城市河道综合整治的工作报告", *wrap(RIVER), "市政府决定投入资金十二亿元，完成主城区",
               "二十三条河道的清淤和护岸改造工程，", "年底前河道水质全部达到四类标准。"]
NOTICE = ["关于开展冬季供暖安全检查的通知", "各街道办事处：", *wrap(HEAT), "今年供暖期自十一月十五日开始，全区将对",
          "一百八十个老旧小区的供热管网进行安全检查，", "由区住建局牵头负责。"]
MINUTES = [
    ["区政府常务会议纪要", "会议听取了全区教育工作情况汇报。", *wrap(SCHOOL)],
    [*wrap(BUDGET), "会议决定今年新建公办幼儿园六所，", "新增学前教育学位两千四百个，", "所需经费由区财政统筹安排。"],
]
OFD_PAGES = [
    ["关于推进老旧电梯更新改造的通知", "各有关单位：", "为保障群众乘梯安全，现就有关事项通知如下。", *wrap(LIFT)],
    ["一、改造规模", *wrap(LIFT[60:] + LIFT[:90] + "各区要在每季度末报送改造进度，市里将适时组织检查。"),
     "全市计划更新改造老旧电梯九百五十台，", "每台补助资金十五万元，", "由市市场监管局负责验收。"],
]
OFD_SCANNED_PAGE = ["二、资金申请", *wrap(APPLY), "电梯更新改造补助资金申请",
                    "截止日期为六月三十日，逾期不予受理。"]
COVER = "\n".join(
    ["Municipal Government Work Report", "River Management Annex", ""]
    + [f"Section {i}: summary of the measures taken by the districts in this area of work." for i in range(1, 9)]
)


@dataclass(frozen=True)
class Case:
    question: str
    doc_id: str
    page: int
    fact: str


CASES = [
    Case("主城区河道清淤和护岸改造工程投入资金多少？", "scan.pdf", 2, "十二亿元"),
    Case("冬季供暖安全检查涉及多少个老旧小区？", "notice.png", 1, "一百八十个"),
    Case("区政府常务会议决定新建公办幼儿园几所？", "minutes.tiff", 2, "六所"),
    Case("老旧电梯更新改造每台补助资金多少万元？", "lift.ofd", 2, "十五万元"),
    Case("电梯更新改造补助资金申请的截止日期是哪天？", "lift.ofd", 3, "六月三十日"),
    Case("城镇新增就业多少人？", "stats.xlsx", 0, "52000人"),
]
# The degraded pages OCR reads, with the text they carry: (doc_id, 1-based page, lines).
SCANNED = [
    ("scan.pdf", 2, REPORT_PAGE),
    ("notice.png", 1, NOTICE),
    ("minutes.tiff", 1, MINUTES[0]),
    ("minutes.tiff", 2, MINUTES[1]),
    ("lift.ofd", 3, OFD_SCANNED_PAGE),
]


def _png(image: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def build_archive(folder: Path) -> Path:
    """Five files a government archive holds, every scanned page rotated, blurred, noisy and JPEG-compressed."""
    folder.mkdir(parents=True, exist_ok=True)
    make_scanned_pdf(folder / "scan.pdf", [jpeg_roundtrip(render_page(REPORT_PAGE, seed=1))], text_pages={0: COVER})
    jpeg_roundtrip(render_page(NOTICE, angle=-1.2, seed=2)).save(folder / "notice.png")
    make_tiff(folder / "minutes.tiff", [jpeg_roundtrip(render_page(p, seed=3 + i)) for i, p in enumerate(MINUTES)])
    scanned = _png(jpeg_roundtrip(render_page(OFD_SCANNED_PAGE, angle=0.5, seed=6)))
    make_ofd(folder / "lift.ofd", [*OFD_PAGES, scanned], title="关于推进老旧电梯更新改造的通知",
             author="市人民政府办公室", date="2023-04-12")
    make_xlsx(folder / "stats.xlsx", {
        "2023年": [["指标", "数值", "单位", "说明"], ["城镇新增就业", 52000, "人", "完成年度目标的104%"],
                  ["森林覆盖率", 41.5, "%", "比上年提高0.8个百分点"]],
        "2022年": [["指标", "数值", "单位"], ["城镇新增就业", 49800, "人"]],
    }, title="全市主要统计指标")
    return folder


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any, Path]:
    """The archive indexed once with the real model into a real Chroma store, and a QA over it."""
    from bot.qa import QA
    from core.settings import Settings
    from vectorstore.archive import Archive

    root = tmp_path_factory.mktemp("scans")
    folder = build_archive(root / "archive")
    settings = Settings(db=root / "db")
    archive = Archive(settings)
    report = archive.index_paths([folder])
    assert report.count("indexed") == 5 and not report.failed, report.summary()
    return archive, QA(settings, archive=archive), folder


def page_text(doc: Any, page: int) -> str:
    starts = [*doc.page_starts, len(doc.text)]
    return doc.text[starts[page - 1] : starts[page]]


@pytest.mark.parametrize("case", CASES, ids=[c.doc_id + f"-p{c.page}" for c in CASES])
def test_question_cites_file_and_page(indexed: tuple[Any, Any, Path], case: Case) -> None:
    _, qa, _ = indexed
    answer = qa.ask(case.question)
    assert not answer.refused, answer.answer
    top = answer.citations[0]
    assert (top.doc_id, top.page) == (case.doc_id, case.page), [(c.doc_id, c.page, c.text) for c in answer.citations]
    assert case.fact in top.text


def test_pages_and_metadata(indexed: tuple[Any, Any, Path]) -> None:
    archive, _, _ = indexed
    pdf = archive.document("scan.pdf")
    assert len(pdf.page_starts) == 2 and "Municipal Government" in page_text(pdf, 1)
    assert "十二亿元" in page_text(pdf, 2)
    tiff = archive.document("minutes.tiff")
    assert len(tiff.page_starts) == 2 and "六所" in page_text(tiff, 2) and "六所" not in page_text(tiff, 1)
    ofd = archive.document("lift.ofd")
    assert (ofd.title, ofd.speaker, ofd.date) == ("关于推进老旧电梯更新改造的通知", "市人民政府办公室", "2023-04-12")
    assert len(ofd.page_starts) == 3 and "九百五十台" in page_text(ofd, 2)
    xlsx = archive.document("stats.xlsx")
    assert xlsx.page_starts == [] and xlsx.title == "全市主要统计指标"
    assert "指标：城镇新增就业；数值：49800人。" in xlsx.text and "数值：41.5%" in xlsx.text


def test_ocr_accuracy_on_degraded_pages(indexed: tuple[Any, Any, Path], capsys: pytest.CaptureFixture[str]) -> None:
    archive, _, _ = indexed
    scores = []
    for doc_id, page, lines in SCANNED:
        accuracy = char_accuracy("".join(lines), page_text(archive.document(doc_id), page))
        scores.append(accuracy)
        with capsys.disabled():
            print(f"\nOCR character accuracy {doc_id} p{page}: {accuracy:.4f}")
    with capsys.disabled():
        print(f"OCR character accuracy, all degraded pages: {sum(scores) / len(scores):.4f}")
    assert min(scores) >= 0.98, scores


def test_ocr_cache_spares_the_rerun(indexed: tuple[Any, Any, Path], tmp_path: Path) -> None:
    """A page read before comes from the cache: doctored entries show up, so nothing was recognised again."""
    archive, _, folder = indexed
    cache = archive.settings.db / "ocr-cache"
    entries = sorted(cache.glob("*/*.json"))
    assert len(entries) == len(SCANNED)
    for entry in entries:
        data = json.loads(entry.read_text(encoding="utf-8"))
        data["lines"][0]["text"] = "缓存标记" + data["lines"][0]["text"]
        entry.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    doc = load_document(folder / "minutes.tiff", "minutes.tiff", ocr=OcrOptions(cache_dir=cache))
    assert doc.text.count("缓存标记") == 2
    pages: list[tuple[int, int]] = []
    load_document(folder / "scan.pdf", "scan.pdf", ocr=OcrOptions(cache_dir=cache, on_page=lambda d, t: pages.append((d, t))))
    assert pages == [(0, 1), (1, 1)]  # only the page without a text layer is OCR'd (told before and after it)


@pytest.mark.parametrize(("doc_id", "page", "lines"), SCANNED, ids=[f"{d}-p{p}" for d, p, _ in SCANNED])
def test_scanned_pages_keep_their_image_and_line_boxes(indexed: tuple[Any, Any, Path], doc_id: str, page: int,
                                                       lines: list[str]) -> None:
    """What the viewer shows for a scanned page: the stored page image, and each recognised line with its box
    on that image and its place in the document text (boxes in written order, one per typed line)."""
    from PIL import Image

    from ingest.ocr import read_page_image

    archive, _, _ = indexed
    doc = archive.document(doc_id)
    scan = doc.scan(page)
    assert scan is not None and [s.page for s in doc.scans] == [p for d, p, _ in SCANNED if d == doc_id]
    image = read_page_image(archive.ocr_cache, scan.image)
    assert image is not None
    with Image.open(io.BytesIO(image)) as stored:  # the boxes are measured on the stored image
        assert (stored.format, stored.size) == ("JPEG", (scan.width, scan.height))
    assert len(scan.lines) == len(lines)
    starts, ends = doc.page_starts[page - 1], [*doc.page_starts[1:], len(doc.text)][page - 1]
    tops = [line.box[1] for line in scan.lines]
    assert tops == sorted(tops)
    for typed, line in zip(lines, scan.lines, strict=True):
        assert starts <= line.start < line.end <= ends, line
        placed = "".join(doc.text[line.start : line.end].split())
        assert char_accuracy(typed, placed) >= 0.9, (typed, placed)
        x0, y0, x1, y1 = line.box
        assert 0 <= x0 < x1 <= scan.width and 0 <= y0 < y1 <= scan.height


def test_a_cited_scanned_passage_boxes_its_lines(indexed: tuple[Any, Any, Path]) -> None:
    """The citation of the fact on the scanned page of scan.pdf: the lines its passage spans, the fact's among them."""
    archive, qa, _ = indexed
    top = qa.ask(CASES[0].question).citations[0]
    doc = archive.document(top.doc_id)
    boxed = doc.scan(top.page).lines_in(top.hit_start, top.hit_end)
    assert boxed and any("十二亿元" in line.text for line in boxed)
    assert all(top.page == doc.page_of(line.start) for line in boxed)


def test_ocr_off(indexed: tuple[Any, Any, Path]) -> None:
    """SPEECHQA_OCR=off: images are refused with a clear message, a mixed PDF keeps its text pages only."""
    from ingest import IngestError

    _, _, folder = indexed
    off = OcrOptions(engine="off")
    with pytest.raises(IngestError, match="OCR 已关闭"):
        load_document(folder / "notice.png", "notice.png", ocr=off)
    doc = load_document(folder / "scan.pdf", "scan.pdf", ocr=off)
    assert "Municipal Government" in doc.text and "十二亿元" not in doc.text


def test_turning_ocr_on_rereads_the_scans_it_skipped(indexed: tuple[Any, Any, Path], tmp_path: Path) -> None:
    """A mixed PDF indexed with OCR off keeps its text page only; once OCR is on, the next run reads it again
    (the OCR engine is part of a scannable file's key), while a text file stays unchanged."""
    import shutil

    from core.settings import Settings
    from vectorstore.archive import Archive

    _, _, folder = indexed
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(folder / "scan.pdf", docs / "scan.pdf")
    (docs / "note.txt").write_text("关于会议室使用的说明\n会议室每周一上午用于例会。\n", encoding="utf-8")
    off = Archive(Settings(db=tmp_path / "db", ocr="off"))
    assert off.index_paths([docs]).count("indexed") == 2
    assert "十二亿元" not in off.document("scan.pdf").text
    on = Archive(Settings(db=tmp_path / "db", ocr="rapidocr"))
    report = on.index_paths([docs])
    assert [(r.doc_id, r.status) for r in sorted(report.results, key=lambda r: r.doc_id)] == [
        ("note.txt", "unchanged"), ("scan.pdf", "indexed")]
    assert "十二亿元" in on.document("scan.pdf").text
    assert on.index_paths([docs]).count("unchanged") == 2
