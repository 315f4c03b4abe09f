"""Enumerations in government text: every marker family, its items with offsets, and the lead."""

from __future__ import annotations

import pytest

from ingest.structure import Enumeration, Item, enumerations

MINUTES = """一、关于农贸市场改造
会议指出，农贸市场环境脏乱问题群众意见较大。会议决定：
（一）2025年改造农贸市场５个，9月30日前完成，由县商务局牵头负责；
（二）改造资金１２００万元由县财政局统筹安排；
（三）建立市场长效保洁机制。
二、关于河道治理
会议要求，县水利局在汛前完成全县河道清淤４０公里。
"""


def _texts(text: str, e: Enumeration) -> list[str]:
    return [text[i.start : i.end] for i in e.items]


def _family(text: str, family: str) -> Enumeration:
    found = [e for e in enumerations(text) if e.family == family]
    assert found, f"no {family} enumeration in {text!r}"
    return found[0]


def test_parenthesised_items_with_their_lead_and_offsets() -> None:
    e = _family(MINUTES, "paren")
    assert _texts(MINUTES, e) == [
        "（一）2025年改造农贸市场５个，9月30日前完成，由县商务局牵头负责",
        "（二）改造资金１２００万元由县财政局统筹安排",
        "（三）建立市场长效保洁机制。",
    ]
    assert MINUTES[e.lead_start : e.lead_end] == "会议决定："
    assert [i.index for i in e.items] == [1, 2, 3]
    assert MINUTES[e.items[0].body_start :].startswith("2025年改造")


def test_section_headings_form_their_own_enumeration() -> None:
    e = _family(MINUTES, "comma")
    assert [MINUTES[i.start : i.end].split("\n")[0] for i in e.items] == ["一、关于农贸市场改造", "二、关于河道治理"]


@pytest.mark.parametrize(
    ("text", "family", "items"),
    [
        ("会议提出三点要求：一是压实属地责任；二是压实部门监管责任；三是强化考核问责。",
         "shi", ["一是压实属地责任", "二是压实部门监管责任", "三是强化考核问责。"]),
        ("主要措施如下：\n1. 新建停车位２００个；\n2. 开通夜间公交线路３条。\n",
         "digit", ["1. 新建停车位２００个", "2. 开通夜间公交线路３条。"]),
        ("重点抓好两件事：①修订管理办法；②开展专项检查。", "circled", ["①修订管理办法", "②开展专项检查。"]),
        ("我讲三点意见。第一，提高认识。第二，狠抓落实。第三，严格考核。",
         "di", ["第一，提高认识。", "第二，狠抓落实。", "第三，严格考核。"]),
        ("确定为以下２项。\n序号\t项目\t牵头单位\n1\t老旧小区改造\t区住建局\n2\t社区托育\t区卫健局\n",
         "row", ["1\t老旧小区改造\t区住建局", "2\t社区托育\t区卫健局"]),
    ],
)
def test_each_marker_family(text: str, family: str, items: list[str]) -> None:
    assert _texts(text, _family(text, family)) == items


def test_a_table_lead_skips_the_header_line_and_finds_the_announcing_sentence() -> None:
    text = "经票决，民生实事项目确定为以下２项。现予公布。\n序号\t项目\n1\t老旧小区改造\n2\t社区托育\n"
    e = _family(text, "row")
    assert text[e.lead_start : e.lead_end] == "经票决，民生实事项目确定为以下２项。"


def test_numbers_that_do_not_count_up_from_one_are_not_a_list() -> None:
    assert not [e for e in enumerations("（二）只有第二项。（三）还有第三项。") if e.family == "paren"]
    assert not [e for e in enumerations("2025年完成３项，2026年再完成５项。") if e.family == "digit"]


def test_a_name_holding_a_numeral_is_not_an_item() -> None:
    # "十一是" inside a number, "第一" inside "第一责任人": neither starts an item
    text = "负责人为第一责任人，第二责任人由副职担任。"
    assert not [e for e in enumerations(text) if e.family == "di"]


def test_invariants_are_checked() -> None:
    with pytest.raises(ValueError):
        Enumeration("paren", (Item(0, 3, 1, 1, "（一）"),), 0, 0)
    with pytest.raises(ValueError):
        Enumeration("paren", (Item(0, 3, 1, 1, "（一）"), Item(4, 6, 5, 3, "（三）")), 0, 0)

