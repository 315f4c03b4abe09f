"""Format readers: html, csv, markdown, docx, pdf."""

from __future__ import annotations

import csv
from pathlib import Path

from ingest import load_document, split_document
from tests.support.archives import write
from tests.support.ingest_builders import make_docx, make_pdf


def test_html_scripts_and_handlers_never_reach_the_text(tmp_path: Path) -> None:
    html = """<html><head><title>在全市工作会议上的讲话 - 某某政府网</title>
    <script>var x = "<p>not text</p>"; alert(1)</script><style>p{color:red}</style></head>
    <body><nav>首页 | 新闻 | 讲话</nav><header>网站头部</header>
    <div class="content"><h1>在全市工作会议上的讲话</h1>
    <p>同志们：</p><p>今天的会议&ldquo;很重要&rdquo;。<img src=x onerror="alert(2)"></p>
    <p>第二段<br>换行之后。<script>alert(3)</script></p>
    <noscript>请启用脚本</noscript><iframe src="https://evil.example"></iframe>
    <form><input value="提交"></form></div>
    <footer>版权所有 © 2024 某某网 京ICP备12345678号</footer></body></html>"""
    doc = load_document(write(tmp_path, "page.html", html), "page.html")
    for bad in ["alert", "not text", "color:red", "onerror", "网站头部", "请启用脚本", "提交", "ICP", "evil"]:
        assert bad not in doc.text, bad
    assert "今天的会议“很重要”。" in doc.text  # entities decoded
    assert "第二段\n换行之后。" in doc.text  # <br> is a line break
    assert doc.title == "在全市工作会议上的讲话"
    assert doc.format == "html"
    assert doc.meeting == "全市工作会议"


def test_html_main_content_beats_chrome(tmp_path: Path) -> None:
    body = "".join(
        f"<p>这是正文第{i}段，讲的是如何做好经济工作，确保完成全年目标任务。</p>" for i in range(12)
    )
    side = "".join(f'<li><a href="/n{i}">相关新闻标题第{i}条相关新闻标题</a></li>' for i in range(30))
    html = f"""<html><head><title>某领导在经济工作会议上的讲话_某某网</title>
    <link rel="canonical" href="https://example.gov.cn/a/1.html"></head><body>
    <div id="menu"><ul>{side}</ul></div>
    <div id="main"><div class="info">发布时间：2023年12月20日 10:30 来源：某某日报</div>{body}</div>
    <div class="friend">友情链接：<a href="#">某某网</a></div></body></html>"""
    doc = load_document(write(tmp_path, "news.htm", html), "news.htm")
    assert "这是正文第0段" in doc.text and "这是正文第11段" in doc.text
    assert "相关新闻标题" not in doc.text and "友情链接" not in doc.text
    assert doc.date == "2023-12-20"
    assert doc.url == "https://example.gov.cn/a/1.html"
    assert doc.title == "某领导在经济工作会议上的讲话"
    assert doc.text.startswith("某领导在经济工作会议上的讲话\n")


def test_12371_style_page(tmp_path: Path) -> None:
    html = """<html><head><title>习近平在某会议上的讲话_共产党员网</title></head><body>
    <div class="nav">导航 首页 时事</div>
    <h1 class="big_title"><!--repaste.title.begin-->习近平在某会议上的讲话<!--repaste.title.end--></h1>
    <div id="font_area"><!--repaste.body.begin--><div class="con"><p>　　同志们：</p>
    <p>　　这次会议的主要任务是&ldquo;总结经验&rdquo;。</p></div><!--repaste.body.end--></div>
    <i class="time">发布时间：2019年12月27日 22:08      来源：新华社      编辑：某某</i>
    <div class="foot">共产党员网 版权所有</div></body></html>"""
    doc = load_document(write(tmp_path, "xi.html", html), "xi.html")
    assert doc.text == "习近平在某会议上的讲话\n同志们：\n这次会议的主要任务是“总结经验”。"
    assert doc.date == "2019-12-27"
    assert doc.speaker == "习近平"
    assert doc.meeting == "某会议"


def test_csv_with_text_column(tmp_path: Path) -> None:
    path = tmp_path / "reports.csv"
    long_text = (
        "下载\n打印\n【字号：\n加大\n还原\n减小\n】\n2026年某省政府工作报告\n——2026年1月25日在某省第十届人民代表大会第四次会议上\n各位代表：\n"
        + "我们要推动高质量发展。" * 20000
    )
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["province", "year", "title", "source_url", "publish_date", "full_text"])
        writer.writerow(
            [
                "某省",
                "2026",
                "2026年某省政府工作报告",
                "https://example.gov.cn/r.html",
                "2026-02-02",
                long_text,
            ]
        )
    doc = load_document(path, path.name)
    assert doc.title == "2026年某省政府工作报告"
    assert doc.url == "https://example.gov.cn/r.html"
    assert doc.date == "2026-01-25"  # the speech date in the text beats the publish_date column
    assert doc.text.startswith("2026年某省政府工作报告\n——2026年1月25日")
    assert "字号" not in doc.text and "加大" not in doc.text
    assert len(doc.text) > 200_000  # a field bigger than csv's default limit
    assert doc.format == "csv"


def test_csv_several_rows_and_no_known_column(tmp_path: Path) -> None:
    path = tmp_path / "speeches.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["名称", "讲话内容"])
        writer.writerow(["第一篇", "同志们：第一篇讲话的正文，内容比较长，讲了很多事情。"])
        writer.writerow(["第二篇", "同志们：第二篇讲话的正文，内容同样比较长，讲了更多事情。"])
    doc = load_document(path, path.name)
    assert "第一篇讲话的正文" in doc.text and "第二篇讲话的正文" in doc.text
    assert "讲话内容" not in doc.text


def test_markdown(tmp_path: Path) -> None:
    md = (
        "# 在中国共产党第十九次全国代表大会上的报告\n\n来源：https://zh.wikisource.org/wiki/x\n\n"
        "（2017年10月18日）\n\n同志们：\n\n## 一、过去五年的工作\n\n**五年来**，我们取得了[重大成就](https://example.com)。\n\n"
        "---\n\n> 引用的一段话。\n"
    )
    doc = load_document(write(tmp_path, "cpc.md", md), "cpc.md")
    assert doc.title == "在中国共产党第十九次全国代表大会上的报告"
    assert doc.url == "https://zh.wikisource.org/wiki/x"
    assert doc.date == "2017-10-18"
    assert doc.meeting == "中国共产党第十九次全国代表大会"
    assert "五年来，我们取得了重大成就。" in doc.text
    assert "**" not in doc.text and "](" not in doc.text and "来源" not in doc.text and "---" not in doc.text
    sections = [p.section for p in split_document(doc, size=20, overlap=5)]
    assert "一、过去五年的工作" in sections


def test_docx_paragraphs_and_table(tmp_path: Path) -> None:
    path = make_docx(tmp_path / "speech.docx")
    doc = load_document(path, path.name)
    assert doc.format == "docx"
    assert doc.title == "在全市工作会议上的讲话"
    lines = doc.text.split("\n")
    assert lines[:3] == [
        "在全市工作会议上的讲话",
        "同志们：",
        "一、统一思想。今年全市生产总值增长5.1%，我们要再接再厉。",
    ]
    assert "指标\t2024年\t2025年\n增长\t4.8%\t5.1%" in doc.text  # cells by tabs, rows by newlines
    assert doc.text.index("增长\t4.8%") < doc.text.index("二、狠抓落实")  # document order
    passages = split_document(doc, size=20, overlap=5)
    sections = {p.section for p in passages}
    assert "二、狠抓落实" in sections
    assert passages[0].section == "在全市工作会议上的讲话"
    assert not any("\t" in s for s in sections)


def test_pdf_pages(tmp_path: Path) -> None:
    page1 = "Annual work report of the city government.\nFirst page talks about the economy."
    page2 = "Second page talks about the environment.\nThe end of the report."
    path = tmp_path / "report.pdf"
    path.write_bytes(make_pdf([page1, page2]))
    doc = load_document(path, path.name)
    assert doc.format == "pdf"
    assert len(doc.page_starts) == 2 and doc.page_starts[0] == 0
    assert doc.text[doc.page_starts[1] :].startswith("Second page")
    assert "economy" in doc.text[: doc.page_starts[1]]
    passages = split_document(doc, size=30, overlap=5)
    assert {p.page for p in passages} == {1, 2}
    for p in passages:
        assert p.text == doc.text[p.start : p.end]
        assert p.page == (2 if p.start >= doc.page_starts[1] else 1)
    assert doc.title == "Annual work report of the city government."


def test_pdf_page_number_lines_dropped(tmp_path: Path) -> None:
    path = tmp_path / "numbered.pdf"
    path.write_bytes(make_pdf(["Budget report.\n- 1 -", "Second page text.\nPage 2 of 2"]))
    doc = load_document(path, path.name)
    assert doc.text == "Budget report.\nSecond page text."


def test_pdf_with_an_empty_page_keeps_page_numbers(tmp_path: Path) -> None:
    path = tmp_path / "gap.pdf"
    path.write_bytes(make_pdf(["Page one text.", None, "Page three text."]))
    doc = load_document(path, path.name)
    assert len(doc.page_starts) == 3
    passages = split_document(doc, size=8, overlap=0)
    assert passages[-1].page == 3
    assert passages[0].page == 1


def test_a_source_link_as_long_as_a_paragraph_is_still_not_text(tmp_path: Path) -> None:
    from urllib.parse import quote

    url = "https://zh.wikisource.org/wiki/" + quote("高举中国特色社会主义伟大旗帜_为全面建设社会主义现代化国家而团结奋斗" * 2)
    assert len(url) > 300  # percent-encoded Chinese: longer than the longest chrome line
    md = f"# 在党的代表大会上的报告\n\n来源：{url}\n\n同志们：\n\n现在，我代表中央委员会向大会作报告。\n"
    doc = load_document(write(tmp_path, "cpc.md", md), "cpc.md")
    assert doc.url == url
    assert "%E" not in doc.text and "来源" not in doc.text
    assert "现在，我代表中央委员会向大会作报告。" in doc.text
    # a long paragraph that merely holds a link stays text
    body = "会议强调，" + "要坚持以人民为中心的发展思想，" * 20 + "详见https://example.com/a。"
    doc = load_document(write(tmp_path, "b.md", f"# 标题\n\n{body}\n"), "b.md")
    assert "要坚持以人民为中心的发展思想" in doc.text
