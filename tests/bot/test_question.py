"""What a question asks: its kind, its parts, the item it points at, the places and people it names."""

from __future__ import annotations

import pytest

from bot.question import analyse_question, events_in, kind_of, persons_in, places_in, split_parts


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("背街小巷整治由哪个部门牵头？", "who"),
        ("通知里留的联系人是谁？", "who"),
        ("河道清淤要在什么时候完成？", "date"),
        ("会议在哪里召开？", "where"),
        ("还要在哪两个地方新建钢铁联合企业？", "where"), ("哪些地方政府债务到期？", "list"),
        ("为什么要下大力气整治共享单车？", "why"),
        ("计划整治多少条背街小巷？", "number"),
        ("今年民生实事有哪些？", "list"),
        ("共享单车乱停放，会议决定怎么办？", "decision"),
        ("是否同意该方案？", "yesno"),
        ("这份通知的文号是什么？", "fact"),
    ],
)
def test_kind(question: str, kind: str) -> None:
    assert kind_of(question) == kind


def test_a_compound_question_has_one_part_per_ask() -> None:
    q = analyse_question("2025年计划整治多少条背街小巷？由哪个部门牵头？")
    assert q.kinds == ["number", "who"]
    assert split_parts("全市防汛工作会议提出了哪些要求？由谁负责？") == ["全市防汛工作会议提出了哪些要求", "由谁负责"]
    assert split_parts("湖北2026年城镇新增就业和粮食产量的预期目标各是多少？") == [
        "湖北2026年城镇新增就业的预期目标是多少", "湖北2026年粮食产量的预期目标是多少"]
    assert split_parts("全国财政赤字和地方专项债券分别安排多少？") == ["全国财政赤字安排多少", "地方专项债券安排多少"]
    assert split_parts("会议和论坛在哪里召开？") == ["会议和论坛在哪里召开"]  # not a how-many of each


def test_a_trailing_filler_is_not_a_part_of_its_own() -> None:
    assert analyse_question("民生实事有哪些？是什么？").kinds == ["list"]


@pytest.mark.parametrize(("question", "item"), [("那第二项是什么？", 2), ("民生实事第10项是什么？", 10),
                                                 ("第三条呢？", 3), ("民生实事有哪些？", None)])
def test_the_item_a_question_points_at(question: str, item: int | None) -> None:
    assert analyse_question(question).item == item


def test_places_are_names_not_words_that_end_like_one() -> None:
    assert places_in("2025年临江区计划整治多少条背街小巷？") == ["临江区"]
    assert places_in("浙江2026年的经济增长目标是多少？") == ["浙江"]
    assert places_in("全市共有多少个社区？本区呢？") == []
    assert places_in("会议要求各街道对哪些地方建立台账？") == []
    # kinds of area are no names; a district of that shape is
    assert places_in("青海2026年农牧区劳动力转移就业目标是多少？") == ["青海"]
    assert places_in("要加大对贫困山区的支持，在牧区推广什么？") == []
    assert places_in("在中山区推广了什么？") == ["中山区"]


def test_people_named_beside_their_title() -> None:
    assert persons_in("罗振宇副区长在全区教育工作会议上讲了什么？") == ["罗振宇"]
    assert persons_in("区长林书航在会上提出了哪些要求？") == ["林书航"]
    assert persons_in("市交通运输局局长办公会讲了什么？") == []


def test_a_year_naming_a_report_is_the_reports_year() -> None:
    from bot.question import document_years

    assert document_years("临江区2024年政府工作报告给地区生产总值定的增长目标是多少？") == [2024]
    assert document_years("2018年政府工作报告给财政赤字率定了多少？") == [2018]
    assert document_years("2024年全区地区生产总值增长多少？") == []


def test_events_named_are_the_meeting_not_the_words_around_it() -> None:
    assert events_in("2018年底召开的中央经济工作会议是哪几天开的？") == ["中央经济工作会议"]
    assert events_in("2019年博鳌亚洲论坛年会开幕式上的主旨演讲是谁作的？") == ["博鳌亚洲论坛年会"]
    assert events_in("纪念地方人大设立常委会40周年座谈会上，是谁传达了指示并主持会议？") == [
        "纪念地方人大设立常委会40周年座谈会"]
    assert events_in("上海合作组织峰会上讲了什么？") == ["上海合作组织峰会"]
    # the asked event, "this meeting", and sessions by number (checked by `specifics`) are not constraints
    assert events_in("广东要全力做好哪场国际峰会的服务保障？") == []
    assert events_in("共享单车乱停放，会议决定怎么办？") == []
    assert events_in("十四届全国人大二次会议的决议怎么说？") == []


def test_a_document_kind_named_with_its_year_and_a_national_one() -> None:
    from bot.question import document_kinds, national

    assert document_kinds("2018年政府工作报告对海南作了什么部署？") == ["政府工作报告"]
    assert document_kinds("2018年海南作了什么部署？") == []
    assert national("2026年国务院政府工作报告把全国经济增长目标定为多少？")
    assert not national("2026年浙江省政府工作报告把经济增长目标定为多少？")
    assert not national("全国政协委员提了什么建议？")
    assert not national("疫苗案件中，是哪位领导批示要国务院立刻派调查组彻查？")  # the State Council acts; no report named


def test_people_named_before_what_they_did() -> None:
    assert persons_in("十一大上叶剑英作的关于修改党章的报告提出了哪些要求？") == ["叶剑英"]
    assert persons_in("王沪宁作的总结讲话讲了什么？") == ["王沪宁"]
    assert persons_in("会议由谁主持？") == [] and persons_in("何时主持召开？") == []
    assert persons_in("座谈会上，刘鹤提出的举措是什么？") == ["刘鹤"]  # named before what he said
    assert persons_in("会议提出了什么？全会强调了什么？") == []


def test_a_personal_name_is_a_person_where_it_acts_or_speaks() -> None:
    assert persons_in("张德江在1997年政府工作报告里提出了什么？") == ["张德江"]
    assert persons_in("据韩正介绍，会议提出了哪些新战略？") == ["韩正"]
    assert persons_in("按照赵乐际的说法，海南自贸区要怎么建设？") == ["赵乐际"]
    assert persons_in("李鹏为什么说要开放沿海港口城市？") == ["李鹏"]
    assert persons_in("九大报告点名批判刘少奇散布的那些谬论有哪几种？") == []  # said about him, not by him
    assert persons_in("总书记在重庆石柱考察的华溪村有多少贫困户？") == []  # a place where one goes
    assert persons_in("十大报告说九大以前，林彪是和谁一起起草的？") == []
    # names the segmenter cuts ("韩/正在", "栗/战书") or does not know, before what they do or after a title
    assert persons_in("韩正在庆祝大会上宣布了什么决定？") == ["韩正"]
    assert persons_in("栗战书在春节团拜会上致辞时讲了什么？") == ["栗战书"]
    assert persons_in("2018年3月8日汪洋参加福建代表团审议时说了什么？") == ["汪洋"]
    assert persons_in("内蒙古自治区主席布小林在政府工作报告中提到了什么？") == ["布小林"]
    assert persons_in("易炼红省长作政府工作报告时说了什么？") == ["易炼红"]  # a rarer surname beside a title
    assert persons_in("中共中央总书记习近平在会上讲了什么？") == ["习近平"]  # not "共中央"
    # not names: a river, a meeting, words around 座谈/讲话
    for question in ("黄河在哪些省份入海？", "会议在北京召开了吗？", "黄河座谈会讲话里提到了什么？",
                     "纪念地方人大设立常委会40周年座谈会上，是谁主持会议？", "高铁在2019年通车了多少公里？"):
        assert persons_in(question) == [], question
    # whose account it is: what they said is asked, not what a text says about them
    assert analyse_question("据韩正介绍，会议提出了哪些新战略？").speakers == ["韩正"]
    assert analyse_question("李鹏为什么说要开放沿海港口城市？").speakers == ["李鹏"]
    assert analyse_question("张德江在1997年政府工作报告里提出了什么？").speakers == []


def test_people_named_before_their_own_speech_are_its_speakers() -> None:
    for question, name in [("座谈会上，胡春华发言讲了哪些意见？", "胡春华"), ("集体学习时，蔡奇重点发言的内容是什么？", "蔡奇"),
                           ("大会闭幕时，邓小平致闭幕词讲了什么？", "邓小平"), ("大会上，崔世安的离任致辞回顾了哪些成绩？", "崔世安"),
                           ("胡耀邦在纪念大会上的讲话提出了什么主张？", "胡耀邦")]:
        q = analyse_question(question)
        assert q.persons == [name] and q.speakers == [name], question
    assert analyse_question("会议发言讲了哪些意见？").speakers == []


def test_a_short_question_with_a_word_of_its_own_is_a_part() -> None:
    parts = analyse_question("博览会在哪座城市开幕？主题是什么？").parts
    assert [(p.text, p.kind) for p in parts] == [("博览会在哪座城市开幕", "where"), ("主题是什么", "fact")]
    assert len(analyse_question("会议决定了什么？是什么？").parts) == 1


def test_asking_for_each_of_several_is_a_list() -> None:
    assert kind_of("第一步和第二步分别要达到什么？") == "list"
    assert kind_of("两项指标分别是多少？") == "number"


def test_asking_what_a_numbered_set_holds_is_a_list() -> None:
    assert kind_of("报告对基本建设提出的“三保三压”，具体保什么、压什么？") == "list"
    assert kind_of("“两个确立”是什么时候提出的？") == "date"  # the set named, a date asked


def test_the_place_whose_own_report_is_named() -> None:
    from bot.question import document_owner

    assert document_owner("浦东新区2026年区政府工作报告提出了哪些任务？") == "浦东新区"
    assert document_owner("雄安新区管委会2026年工作报告列了哪些项目？") == "雄安新区"
    assert document_owner("请问河北省2026年政府工作报告的增长目标？") == "河北省"
    assert document_owner("2018年政府工作报告说了什么？") == document_owner("国务院2018年政府工作报告") == ""
    # the governor before the place is not part of it
    assert document_owner("王予波省长在云南省2026年政府工作报告中说了什么？") == "云南省"


def test_an_event_is_titled_by_its_name_and_kind_apart() -> None:
    from bot.question import titled_by

    assert titled_by("黄河座谈会", "在黄河流域生态保护和高质量发展座谈会上的讲话")
    assert not titled_by("黄河座谈会", "在长江经济带发展座谈会上的讲话")
    assert not titled_by("中央经济工作会议", "中央财经委员会第二次会议")
    assert not titled_by("座谈会", "黄河座谈会")  # a kind alone names no event


def test_an_expo_or_games_named_short_is_an_event() -> None:
    assert events_in("总书记在北京世园会开幕式上的讲话题目叫什么？") == ["北京世园会"]
    assert events_in("进博会上宣布了什么？") == []  # too short to tell one from another
