"""The HTML renderers (ui.render): everything from documents and questions is escaped; refusals carry no
citations; a stopped draft is shown struck through and labelled unchecked."""

from __future__ import annotations

import base64
import re
from urllib.parse import parse_qs

from bot.types import Answer, Citation
from ingest.model import Document
from ui import render

NASTY = '<script>window.__x=1</script><img src=x onerror="alert(1)"> ${alert(2)} {{value}} & "q" \'s\''


def _citation(n: int = 1, **kw: object) -> Citation:
    base: dict[str, object] = {
        "n": n, "doc_id": "区政府/a&b.txt", "source": "区政府/a&b.txt", "title": "标题<b>粗</b>",
        "date": "2025-02-21", "speaker": "林书航", "meeting": "第12次常务会议", "section": "一、总体情况",
        "text": "前文。" + NASTY + "后文。", "start": 10, "end": 10 + len("前文。" + NASTY + "后文。"),
        "hit_start": 13, "hit_end": 13 + len(NASTY), "score": 1.0,
    }
    base.update(kw)
    return Citation(**base)  # type: ignore[arg-type]


def _no_live_markup(fragment: str) -> None:
    assert "<script" not in fragment
    assert "<img" not in fragment
    assert "${" not in fragment
    assert "{{" not in fragment


def test_answer_escapes_text_and_links_markers() -> None:
    c1, c2 = _citation(1), _citation(2, title="第二份")
    out = render.render_answer(Answer(question="q", answer=f"答案{NASTY}[1]。\n第二句[2][9]。", refused=False,
                                   citations=[c1, c2]))
    _no_live_markup(out)
    assert "&lt;script&gt;" in out
    assert out.count('class="sq-cite sq-ref"') == 2  # [9] has no citation and stays plain text
    assert "[9]" in out
    assert "\n" not in out  # one line: Markdown never sees a blank line or an indented block
    assert "[1] 标题&lt;b&gt;粗&lt;/b&gt;" in out
    for part in ("2025-02-21", "林书航", "第12次常务会议", "一、总体情况"):
        assert part in out


def test_citation_link_carries_document_and_offsets() -> None:
    c = _citation(3)
    out = render.render_citation(c)
    href = re.search(r'href="#sq-open\?([^"]*)"', out)
    assert href is not None
    query = parse_qs(href.group(1).replace("&amp;", "&"))
    assert query["doc"] == [c.doc_id]
    assert [query[k][0] for k in ("n", "s", "e", "hs", "he")] == [
        str(v) for v in (c.n, c.start, c.end, c.hit_start, c.hit_end)
    ]


def test_refusal_and_error_have_no_citations() -> None:
    refused = render.render_answer(Answer(question="q", answer="资料库中没有找到相关内容，无法回答这个问题。",
                                       refused=True, citations=[_citation()]))
    assert "sq-cite" not in refused
    assert "资料库中没有找到相关内容" in refused
    error = render.render_answer(Answer(question="", answer="请输入问题。", refused=True, error="请输入问题。"))
    assert "sq-cite" not in error
    assert "请输入问题。" in error


def test_document_is_whole_escaped_and_marks_the_hit() -> None:
    text = "第一段。\n" + NASTY + "\n被引用的段落在这里。\n最后一段。"
    doc = Document(doc_id="x.txt", text=text, title="<i>标题</i>", date="2025-01-01", speaker="某某")
    hs = text.index("被引用")
    he = hs + len("被引用的段落在这里。")
    out = render.render_document(doc, (hs, he), (hs - 3, he + 2), n=2)
    _no_live_markup(out)
    mark = re.search(r'<mark id="sq-hit">(.*?)</mark>', out)
    assert mark is not None and mark.group(1) == "被引用的段落在这里。"
    assert "&lt;i&gt;标题&lt;/i&gt;" in out
    visible = re.sub(r"<[^>]+>", "", out.split('<div class="sq-doc-body">', 1)[1])
    assert visible == render.esc(text)  # the whole text, nothing dropped or added


def test_document_offsets_out_of_range_are_clamped() -> None:
    doc = Document(doc_id="x.txt", text="短文本", title="t")
    out = render.render_document(doc, (5, 99), (-4, 200))
    assert '<mark id="sq-hit"></mark>' in out
    assert "短文本" in out


def test_document_list_escapes_and_links() -> None:
    out = render.render_doc_list([
        {"doc_id": "a/<b>.txt", "title": NASTY, "date": "2026-02-10", "speaker": "", "passages": 3},
        {"doc_id": "b.txt", "title": "旧文档", "date": "2025-01-01", "speaker": "林书航", "passages": 7},
    ])
    _no_live_markup(out)
    assert out.index("2026-02-10") < out.index("2025-01-01")  # newest first
    assert "共收录 2 份文档" in out
    assert render.render_doc_list([]).count("sq-empty") == 1


def test_streaming_and_stopped_drafts_escape_and_mark_the_draft_unchecked() -> None:
    notes = [f"已理解为：{NASTY}"]
    streaming = render.render_streaming(NASTY, notes)
    _no_live_markup(streaming)
    assert "sq-pending" in streaming and "sq-cite" not in streaming
    stopped = render.render_stopped(NASTY + "\n第二行", notes)
    _no_live_markup(stopped)
    assert "sq-pending" not in stopped and "sq-cite" not in stopped
    assert "已停止生成。以下为未经核对的草稿，仅供参考。" in stopped and "未核对" in stopped
    draft = re.search(r"<del>(.*?)</del>", stopped)
    assert draft is not None and draft.group(1) == render.esc_lines(NASTY + "\n第二行")
    nothing = render.render_stopped("", notes)
    assert "已停止生成。" in nothing and "未核对" not in nothing and "<del>" not in nothing
    assert render.render_user(NASTY).count("&lt;script&gt;") == 1
    _no_live_markup(render.render_refused(NASTY) + render.render_status(NASTY, ok=False))


def test_a_citation_from_a_paged_source_says_its_page() -> None:
    from bot.types import Citation
    from ui.render import render_citation

    c = Citation(1, "scan.pdf", "scan.pdf", "通报", "", "", "正文", 0, 2, 1.0, page=3)
    assert "第3页" in render_citation(c)
    assert "页" not in render_citation(Citation(1, "a.txt", "a.txt", "通报", "", "", "正文", 0, 2, 1.0))


def _scanned_doc() -> tuple[Document, int, int]:
    """A two-page scan whose recognised lines (and title, and file name) are hostile strings."""
    from ingest.model import ScanLine, ScanPage

    page1 = "封面\n"
    cited = "被引用的第二行。"
    text = page1 + NASTY + "\n" + cited + "\n末行。"
    a = len(page1)
    b = text.index(cited)
    lines = (ScanLine(NASTY, (100.0, 200.0, 1100.0, 240.0), a, a + len(NASTY)),
             ScanLine(cited, (100.0, 300.0, 600.0, 350.0), b, b + len(cited)),
             ScanLine("末行。", (100.0, 400.0, 300.0, 440.0), b + len(cited) + 1, len(text)),
             ScanLine('"><script>alert(3)</script>', (-50.0, 1700.0, 99999.0, 1800.0)))  # unplaced, off the page
    scan = ScanPage(2, "ef" * 32, 1000, 1600, lines)
    doc = Document(doc_id='a"<x>.pdf', text=text, title=NASTY, format="pdf", page_starts=[0, a], scans=[scan])
    return doc, b, b + len(cited)


def test_a_scanned_page_shows_its_image_with_the_cited_lines_boxed_beside_the_text() -> None:
    from ingest.model import ScanLine, ScanPage

    doc, hs, he = _scanned_doc()
    image = b"\xff\xd8\xff" + NASTY.encode() + b"\x00\xff"  # whatever the stored bytes are, they stay base64
    out = render.render_document(doc, (hs, he), (hs - 2, he), n=4, scans=[(doc.scans[0], image)])
    assert out.count("<img") == 1 and "<script" not in out and "${" not in out and "{{" not in out
    img = re.search(r'<img class="sq-scan-img" src="data:image/jpeg;base64,([A-Za-z0-9+/=]+)" alt="第2页扫描图像" '
                    r'width="1000" height="1600">', out)
    assert img is not None
    assert base64.b64decode(img.group(1)) == image
    boxes = re.findall(r'<div class="sq-scan-box" title="([^"]*)" style="([^"]*)"></div>', out)
    assert boxes == [("被引用的第二行。", "left:10.000%;top:18.750%;width:50.000%;height:3.125%")]
    assert "第2页扫描原件" in out and "已高亮显示引文 [4] 对应的段落 · 第2页" in out
    mark = re.search(r'<mark id="sq-hit">(.*?)</mark>', out)
    assert mark is not None and mark.group(1) == "被引用的第二行。"
    visible = re.sub(r"<[^>]+>", "", out.split('<div class="sq-doc-body">', 1)[1])
    assert visible == render.esc(doc.text)  # the recognised text, whole, beside the image

    # a hostile line boxed: its text only ever in an escaped attribute; a box off the image is clamped
    wide = render.render_scan(doc.scans[0], b"x", (0, len(doc.text)))
    assert "<script" not in wide and wide.count('class="sq-scan-box"') == 3
    assert 'title="&lt;script&gt;' in wide
    off = ScanPage(2, "k", 100, 100, (ScanLine("x", (-50.0, 10.0, 500.0, 20.0), 0, 1),))
    clamped = render.render_scan(off, b"x", (0, 1))
    assert "left:0.000%" in clamped and "width:100.000%" in clamped


def test_a_text_pdf_citation_shows_the_text_with_its_page() -> None:
    text = "第一页。\n第二页的引文。"
    doc = Document(doc_id="a.pdf", text=text, title="t", format="pdf", page_starts=[0, 5])
    out = render.render_document(doc, (5, len(text)), None, n=1)
    assert "已高亮显示引文 [1] 对应的段落 · 第2页" in out and "sq-scan" not in out and "<img" not in out
    assert "第" not in render.render_document(Document(doc_id="a.txt", text="正文", title="t"), (0, 2), None, n=1)
