"""Dates, speakers, meetings, titles found in text."""

from __future__ import annotations

import pytest

from ingest.dates import parse_date, parse_year
from ingest.metadata import Metadata, extract_metadata, find_date, find_meeting, find_speaker


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("发布时间:2022-09-20 12:15:04", "2022-09-20"),
        ("2020-11-18 10:31:44", "2020-11-18"),
        ("时间：2026-02-11", "2026-02-11"),
        ("——2026年2月5日在安徽省第十四届人民代表大会第四次会议上", "2026-02-05"),
        ("２０２６年２月５日", "2026-02-05"),
        ("——二〇二六年一月二十七日在甘肃省十四届人民代表大会第四次会议上", "2026-01-27"),
        ("二〇一九年十月一日", "2019-10-01"),
        ("2019/3/8", "2019-03-08"),
        ("2019年3月", "2019-03"),
        ("没有日期", ""),
        ("2019年13月40日", ""),
    ],
)
def test_parse_date(text: str, iso: str) -> None:
    assert parse_date(text) == iso


def test_parse_year() -> None:
    assert parse_year("2018年中华人民共和国国务院政府工作报告") == "2018"
    assert parse_year("１９９８年政府工作报告") == "1998"
    assert parse_year("政府工作报告") == ""


def test_date_priority() -> None:
    header = [
        "2026年安徽省政府工作报告",
        "——2026年2月5日在安徽省第十四届人民代表大会第四次会议上",
        "时间：2026-02-11",
    ]
    assert find_date(header) == "2026-02-05"
    assert find_date(["时间：2026-02-11", "正文"]) == "2026-02-11"
    assert find_date(["正文"], "2020-01-01") == "2020-01-01"
    # a date that opens a sentence in the body is not the speech date
    assert find_date(["一九七四年七月十七日，毛主席在会议上说"]) == ""


def test_year_from_title_when_nothing_better() -> None:
    meta = extract_metadata(["正文第一段。"], ["2018年政府工作报告", "正文第一段。"], Metadata(), "x")
    assert meta.title == "2018年政府工作报告"
    assert meta.date == "2018"


@pytest.mark.parametrize(
    ("title", "header", "speaker"),
    [
        ("2026年安徽省政府工作报告", ["省人民政府省长 王清宪", "各位代表："], "省人民政府省长 王清宪"),
        ("政府工作报告", ["自治区主席 艾尔肯·吐尼亚孜"], "自治区主席 艾尔肯·吐尼亚孜"),
        ("区长在区政府干部会议上的讲话_加强工作规范注重工作方法", [], "区长"),
        ("2022年度在市城管局局长办公会上讲话", [], "局长"),
        ("习近平在党的十九届一中全会上的讲话", [], "习近平"),
        ("习近平：在民营企业座谈会上的讲话", [], "习近平"),
        ("中共中央政治局召开民主生活会 习近平主持并发表重要讲话", [], "习近平"),
        ("关于政府工作报告的决议", ["会议听取了国务院总理李强所作的政府工作报告"], "李强"),
        ("政府工作报告", ["各位代表："], ""),
    ],
)
def test_find_speaker(title: str, header: list[str], speaker: str) -> None:
    assert find_speaker(title, header) == speaker


@pytest.mark.parametrize(
    ("title", "header", "meeting"),
    [
        ("2022年度在市城管局局长办公会上讲话", [], "市城管局局长办公会"),
        ("区长在区政府干部会议上的讲话", [], "区政府干部会议"),
        (
            "政府工作报告",
            ["——2026年1月27日在青海省第十四届人民代表大会第四次会议上"],
            "青海省第十四届人民代表大会第四次会议",
        ),
        ("习近平主持召开中央全面深化改革委员会第四次会议", [], ""),
        ("市政府第12次常务会议纪要", [], "市政府第12次常务会议"),
        ("讲话", ["在这次会议上，我讲三点意见"], ""),
        ("通知", ["2017年底召开的中央经济工作会议将部署明年工作。"], "中央经济工作会议"),
    ],
)
def test_find_meeting(title: str, header: list[str], meeting: str) -> None:
    assert find_meeting(title, header) == meeting
