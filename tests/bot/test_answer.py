"""The answer layer on texts written for it: one test per answer kind and per refusal reason.

`extract` is pure: a question, the cited windows, the documents' texts and the subject terms' weights in;
answer units (each `text == document[start:end]`) or a reason out. Every term weighs 1 here.
"""

from __future__ import annotations

import dataclasses

from bot.answer import Extraction, Source, extract, render, subject_weights
from bot.question import analyse_question
from vectorstore.keyword import tokenize
from vectorstore.query import analyse, key_terms, question_bigrams

MINUTES = """某县人民政府第8次常务会议纪要
主持人：县长 周文彬
一、关于农贸市场改造
会议指出，农贸市场环境脏乱问题群众意见较大。会议决定：
（一）2025年改造农贸市场５个，9月30日前完成，由县商务局牵头负责；
（二）改造资金１２００万元由县财政局统筹安排；
（三）建立市场长效保洁机制。
二、关于河道治理
会议要求，县水利局在汛前完成全县河道清淤４０公里，清淤工作必须在5月底前完成。为了保障汛期行洪安全，县应急管理局要提前储备抢险物资。
会议在县政府三楼会议室召开。
"""
NOTICE = """关于公布2026年县级民生实事项目的通知
经县人大常委会票决，2026年县级民生实事项目确定为以下３项。
序号\t项目名称\t牵头单位
1\t老旧小区改造\t县住建局
2\t社区嵌入式托育\t县卫健局
3\t公共充电设施\t县消防救援大队
"""
REPORT = """2026年某县人民政府工作报告
一、2025年工作回顾
2025年全县地区生产总值增长６％，城镇新增就业１.２万人。
二、2026年主要目标
全县地区生产总值增长５.５％左右。
"""
DOCS = {"minutes.txt": MINUTES, "notice.txt": NOTICE, "report.md": REPORT}
TITLES = {"minutes.txt": "某县人民政府第8次常务会议纪要", "notice.txt": "关于公布2026年县级民生实事项目的通知",
          "report.md": "2026年某县人民政府工作报告"}
YEARS = {"minutes.txt": 2025, "notice.txt": 2026, "report.md": 2026}


def ask(question: str, docs: tuple[str, ...] = ("minutes.txt", "notice.txt")) -> Extraction:
    """Extract over whole documents cited as [1], [2] … in the order given."""
    sources = [Source(n, d, 0, len(DOCS[d]), 0, len(DOCS[d]), TITLES[d], "周文彬" if d == "minutes.txt" else "",
                      YEARS[d]) for n, d in enumerate(docs, start=1)]
    weights = subject_weights(key_terms(tokenize(question)), lambda t: 1.0)
    question_ = analyse_question(question, analyse(question).named_years)
    return extract(question_, sources, DOCS, weights, question_bigrams(question))


def test_every_unit_is_the_documents_own_text() -> None:
    for q in ("农贸市场改造会议决定了哪些事项？", "河道清淤多少公里？", "民生实事有哪些？"):
        for u in ask(q).units:
            assert DOCS[u.doc_id][u.start : u.end] == u.text


def test_list_shows_the_lead_and_every_item_each_cited() -> None:
    got = ask("农贸市场改造会议决定了哪些事项？")
    assert [u.role for u in got.units] == ["lead", "item", "item", "item"]
    assert [u.text[:3] for u in got.units[1:]] == ["（一）", "（二）", "（三）"]
    assert got.text.splitlines()[0] == "会议决定：[1]"
    assert all(line.endswith("[1]") for line in got.text.splitlines())


def test_decision_question_gets_the_decided_items_not_the_remark_before_them() -> None:
    got = ask("农贸市场脏乱，会议决定怎么办？")
    assert any("县商务局牵头负责" in u.text for u in got.units)
    assert all("群众意见较大" not in u.text for u in got.units)


def test_a_table_is_a_list_introduced_by_its_announcing_sentence() -> None:
    got = ask("2026年民生实事有哪些？", ("notice.txt",))
    assert [u.role for u in got.units] == ["lead", "item", "item", "item"]
    assert "老旧小区改造" in got.text and "公共充电设施" in got.text
    assert "1，老旧小区改造，县住建局[1]" in render(got.units)  # cells read as a sentence


def test_a_follow_up_naming_an_item_gets_that_item_only() -> None:
    got = ask("民生实事第二项是什么？", ("notice.txt",))
    assert [u.text for u in got.units] == ["2\t社区嵌入式托育\t县卫健局"]


def test_who_gets_the_clause_naming_the_responsible_body() -> None:
    got = ask("农贸市场改造由哪个部门牵头？")
    assert "由县商务局牵头负责" in got.text


def test_how_many_gets_the_figure_with_its_unit() -> None:
    got = ask("全县河道清淤多少公里？")
    assert "４０公里" in got.text
    assert len(got.units) == 1


def test_when_gets_the_date() -> None:
    assert "5月底前" in ask("河道清淤什么时候完成？").text


def test_where_gets_the_place() -> None:
    assert "县政府三楼会议室" in ask("常务会议在哪里召开？").text


def test_why_gets_the_reason() -> None:
    assert "保障汛期行洪安全" in ask("为什么要提前储备抢险物资？").text


def test_why_gets_what_a_target_is_meant_to_stress() -> None:
    from bot.answer import Thresholds

    title = "2026年某县人民政府工作报告"
    text = (f"{title}\n全县地区生产总值增长５.５％左右。这里要着重说明，提出增长５.５％左右，主要是强调质量第一，"
            "引导各方面把工作重点放到调整结构上来。\n")
    question = "为什么把地区生产总值增长目标定在5.5%左右？"
    weights = subject_weights(key_terms(tokenize(question), {}, question), lambda t: 1.0)
    src = [Source(1, "r.txt", 0, len(text), 0, len(text), title, "", 2026)]
    got = extract(analyse_question(question), src, {"r.txt": text}, weights, question_bigrams(question),
                  Thresholds(top_about=0.2))
    assert "主要是强调质量第一" in got.text


def test_two_questions_in_one_get_both_answers() -> None:
    got = ask("农贸市场改造几个？由哪个部门牵头？")
    assert "５个" in got.text and "县商务局牵头负责" in got.text


def test_headings_and_titles_are_never_answer_sentences() -> None:
    for q in ("农贸市场改造的情况", "河道治理怎么样？"):
        assert all(not u.text.startswith(("一、", "二、", "某县人民政府第8次")) for u in ask(q).units)


def test_refuses_a_figure_the_text_does_not_give_and_says_so() -> None:
    got = ask("农贸市场改造惠及多少户居民？")
    assert not got.answered
    assert "没有给出所问的数量" in got.reason


def test_refuses_a_date_the_text_does_not_give() -> None:
    got = ask("农贸市场长效保洁机制什么时候建立？")
    assert not got.answered and "没有给出所问的时间" in got.reason


def test_refuses_a_person_the_sources_are_not_about() -> None:
    assert not ask("王建国副县长对河道治理提了哪些要求？").answered
    assert ask("周文彬县长对河道治理提了什么要求？").answered


def test_refuses_a_year_no_source_is_about() -> None:
    assert not ask("2024年民生实事有哪些？", ("notice.txt",)).answered
    assert ask("2026年民生实事有哪些？", ("notice.txt",)).answered


def test_a_list_question_without_any_list_in_the_sources_is_refused() -> None:
    assert not ask("县长办公会通报了哪些先进个人？").answered



def test_the_year_of_a_named_report_must_be_the_documents_year() -> None:
    # the 2026 report reviews 2025: it answers "2025年…增长多少" but not "2025年政府工作报告定的目标"
    assert "６％" in ask("2025年全县地区生产总值增长多少？", ("report.md",)).text
    assert not ask("2025年政府工作报告定的地区生产总值增长目标是多少？", ("report.md",)).answered


def test_a_paraphrase_is_answered_from_the_first_ranked_passages_only() -> None:
    from bot.answer import Thresholds

    # holds few of the words of "完成全县河道清淤４０公里" that the minutes use: below the share a sentence needs
    question = "农贸市场改造和长效保洁涉及的河道清淤多少公里？"
    src = [Source(1, "minutes.txt", 0, len(MINUTES), 0, len(MINUTES), TITLES["minutes.txt"], "", 2025)]
    weights = subject_weights(key_terms(tokenize(question)), lambda t: 1.0)
    q = analyse_question(question)
    strict = extract(q, src, DOCS, weights, question_bigrams(question), Thresholds(top_about=0.5))
    loose = extract(q, src, DOCS, weights, question_bigrams(question), Thresholds(top_about=0.2))
    assert not strict.answered
    assert "４０公里" in loose.text
    later = [Source(4, s.doc_id, s.start, s.end, s.hit_start, s.hit_end, s.title, s.speaker, s.year) for s in src]
    assert not extract(q, later, DOCS, weights, question_bigrams(question), Thresholds(top_about=0.2)).answered


def test_the_first_ranked_document_is_read_whole_when_its_cited_passage_does_not_answer() -> None:
    from bot.answer import Thresholds

    question = "河道清淤多少公里？"
    cut = MINUTES.index("二、关于河道治理")  # the cited passage: the first section only
    weights = subject_weights(key_terms(tokenize(question)), lambda t: 1.0)
    q = analyse_question(question)
    first = [Source(1, "minutes.txt", 0, cut, 0, cut, TITLES["minutes.txt"], "", 2025)]
    assert not extract(q, first, DOCS, weights, question_bigrams(question), Thresholds(whole_first=False)).answered
    got = extract(q, first, DOCS, weights, question_bigrams(question), Thresholds())
    assert "４０公里" in got.text and got.units[0].n == 1
    second = [Source(1, "notice.txt", 0, len(NOTICE), 0, len(NOTICE), TITLES["notice.txt"], "", 2026),
              Source(2, "minutes.txt", 0, cut, 0, cut, TITLES["minutes.txt"], "", 2025)]
    assert not extract(q, second, DOCS, weights, question_bigrams(question), Thresholds()).answered  # [1] only


def test_what_is_about_the_subject_in_the_first_ranked_document_beats_a_paraphrase_in_its_passage() -> None:
    from bot.answer import Thresholds

    text = ("某省政府工作报告\n全国首个太空计算卫星星座发射入轨，取得重大科技成果。\n" + "各项工作扎实推进。" * 30
            + "\n探索经济区与行政区适度分离改革，高竹新区成为全国首个跨省域共建新区。\n")
    docs = {"prov.txt": text}
    question = "哪个新区成为全国首个跨省域共建新区？"
    cut = text.index("各项工作")  # the cited passage: a sentence sharing a few words ("全国首个") only
    src = [Source(1, "prov.txt", 0, cut, 0, cut, "某省政府工作报告", "", 2026)]
    weights = subject_weights(key_terms(tokenize(question)), lambda t: 1.0)
    q = analyse_question(question)
    got = extract(q, src, docs, weights, question_bigrams(question), Thresholds(top_about=0.2))
    assert got.text.startswith("探索经济区与行政区适度分离改革，高竹新区成为全国首个跨省域共建新区")
    alone = extract(q, src, docs, weights, question_bigrams(question), Thresholds(top_about=0.2, whole_first=False))
    assert alone.text.startswith("全国首个太空计算卫星星座")  # the paraphrase the passage holds, read loosely


def test_the_sentences_a_part_chose_among_are_observed_with_the_features_their_score_weighs() -> None:
    from bot.answer import FEATURES, SENTENCE_WEIGHTS, sentence_score

    question = "河道清淤多少公里？"
    src = [Source(1, "minutes.txt", 0, len(MINUTES), 0, len(MINUTES), TITLES["minutes.txt"], "", 2025)]
    weights = subject_weights(key_terms(tokenize(question)), lambda t: 1.0)
    seen: list = []
    got = extract(analyse_question(question), src, DOCS, weights, question_bigrams(question),
                  observe=lambda part, sents: seen.append((part.kind, list(sents))))
    assert [kind for kind, _ in seen] == ["number"]
    sents = seen[0][1]
    assert got.units[0].text in [c.units[0].text for c in sents]
    for c in sents:
        assert len(c.features) == len(FEATURES) == len(SENTENCE_WEIGHTS)
        assert abs(c.score - sentence_score(c.features) * c.prior) < 1e-9


def test_a_weak_answer_gives_way_to_a_clear_one_in_the_first_ranked_passage() -> None:
    from bot.answer import Thresholds

    filler = "会议还听取了其他报告。" * 40
    text = f"关于2022年工作的决议\n会议同意2022年3月的工作部署，决定批准这个报告。\n{filler}\n3月11日下午大会闭幕，表决通过。\n"
    docs = {"resolution.txt": text}
    question = "同意2022年工作部署的那份决议是哪天通过的？"
    src = [Source(1, "resolution.txt", 0, len(text), 0, len(text), "关于2022年工作的决议", "", 2022)]
    weights = [("同意", 1.0), ("决议", 1.0), ("通过", 0.3)]  # the dated line holds only the commonest word
    q = analyse_question(question, analyse(question).named_years)
    # the sentence most about the question gives only a month for "哪天"
    weak = extract(q, src, docs, weights, question_bigrams(question), Thresholds(top_about=0.2, strong_first=False))
    assert weak.text.startswith("会议同意") and "3月11日" not in weak.text
    got = extract(q, src, docs, weights, question_bigrams(question), Thresholds(top_about=0.2))
    assert got.text.startswith("3月11日下午大会闭幕")
    later = [dataclasses.replace(src[0], n=4)]  # not among the first-ranked passages: the weak answer stays
    assert extract(q, later, docs, weights, question_bigrams(question), Thresholds(top_about=0.2)).text.startswith("会议同意")


def test_a_share_is_answered_by_a_rate_however_written_and_never_by_an_amount() -> None:
    text = "某县党组织经费情况\n每月从党员的收入中抽出百分之十，用于维持夜校。\n夜校每月需要七百元。\n"
    docs = {"funds.txt": text}
    src = [Source(1, "funds.txt", 0, len(text), 0, len(text), "某县党组织经费情况", "", 1921)]

    def ask_(question: str) -> Extraction:
        weights = subject_weights(key_terms(tokenize(question)), lambda t: 1.0)
        return extract(analyse_question(question), src, docs, weights, question_bigrams(question))

    assert "百分之十" in ask_("每月从党员收入里拿出多大比例来维持夜校？").text
    amounts_only = "某县党组织经费情况\n夜校每月需要七百元，全部来自党员的收入。\n"
    docs["funds.txt"] = amounts_only
    src[0] = Source(1, "funds.txt", 0, len(amounts_only), 0, len(amounts_only), "某县党组织经费情况", "", 1921)
    got = ask_("夜校经费占党员收入的多大比例？")
    assert not got.answered and "没有给出所问的数量" in got.reason


def test_how_long_asks_for_a_duration_and_a_local_text_names_its_own_bodies_without_their_level() -> None:
    from bot.answer import Thresholds

    title = "区长在区政府干部会议上的讲话"
    text = (f"{title}\n同志们：今天召开全区干部会议，参加会议的干部共三百人。\n"
            "区政府班子已经形成良好的工作制度，基本上每两周召开一次政府常务会议，集中研究重大问题。\n")
    docs = {"speech.txt": text}
    question = "区长在区政府干部会议上的讲话里提到，区政府常务会议一般多长时间开一次？"
    src = [Source(1, "speech.txt", 0, len(text), 0, len(text), title, "", 2025)]
    terms = key_terms(tokenize(question), {}, question)
    weights = subject_weights(terms, lambda t: 1.0)
    q = analyse_question(question)
    assert "区政府常务会议" in q.events  # named, and the speech says "政府常务会议"
    got = extract(q, src, docs, weights, question_bigrams(question), Thresholds(top_about=0.2))
    assert got.answered and "每两周召开一次" in got.text and "三百人" not in got.text


def test_a_speech_asked_by_its_speaker_is_what_they_said_not_that_they_attended() -> None:
    from bot.answer import Thresholds

    title = "中央外事工作会议在京举行"
    attended = f"{title}\n中央外事工作会议6月22日至23日在北京举行。王沪宁、韩正出席会议。会议总结了外事工作。\n"
    spoke = attended + "王沪宁在总结讲话中强调，要认真学习领会会议精神，抓好贯彻落实。\n"
    question = "中央外事工作会议上，王沪宁作的总结讲话讲了什么？"
    q = analyse_question(question)
    assert q.speakers == ["王沪宁"]
    weights = subject_weights(key_terms(tokenize(question), {}, question), lambda t: 1.0)

    def ask_(text: str, speaker: str = "") -> Extraction:
        src = [Source(1, "news.txt", 0, len(text), 0, len(text), title, speaker, 2018)]
        return extract(q, src, {"news.txt": text}, weights, question_bigrams(question), Thresholds(top_about=0.2))

    assert not ask_(attended).answered
    assert "要认真学习领会会议精神" in ask_(spoke).text
    assert ask_(attended, speaker="王沪宁").answered  # his own speech: anything in it is what he said


def test_a_speech_named_by_a_reference_to_it_is_not_what_it_said() -> None:
    from bot.answer import Thresholds

    title = "中央对台工作会议在京举行"
    text = (f"{title}\n会议指出，在台湾问题上，要按照胡耀邦在纪念辛亥革命七十周年大会上的讲话精神，促进祖国统一。"
            "胡春华、王毅先后发言。\n")
    for question in ("胡耀邦在纪念辛亥革命七十周年大会上的讲话，对台湾问题提出了什么主张？",
                     "对台工作会议上，胡春华发言讲了哪些意见？"):
        q = analyse_question(question)
        weights = subject_weights(key_terms(tokenize(question), {}, question), lambda t: 1.0)
        src = [Source(1, "news.txt", 0, len(text), 0, len(text), title, "", 2018)]
        got = extract(q, src, {"news.txt": text}, weights, question_bigrams(question), Thresholds(top_about=0.2))
        assert not got.answered and got.reason == f"资料中没有找到{q.speakers[0]}这次讲话的内容，无法回答这个问题。"


def _extract_one(question: str, title: str, text: str):  # noqa: ANN202
    from bot.answer import Thresholds

    weights = subject_weights(key_terms(tokenize(question), {}, question), lambda t: 1.0)
    src = [Source(1, "news.txt", 0, len(text), 0, len(text), title, "", 2019)]
    return extract(analyse_question(question), src, {"news.txt": text}, weights, question_bigrams(question),
                   Thresholds(top_about=0.2))


def test_where_is_a_place_something_happened_at_not_a_word_ending_like_a_place() -> None:
    title = "习近平会见意大利众议长菲科"
    text = (f"{title}\n回顾历史，古丝绸之路很早就将我们两国联系在一起。在十字路口，双方要携手。"
            "国家主席习近平在罗马会见意大利众议长菲科。\n")
    got = _extract_one("习近平会见意大利众议长菲科是在哪里？", title, text)
    assert "在罗马会见" in got.text and "丝绸之路" not in got.text and "十字路口" not in got.text


def test_an_area_or_a_length_asked_is_only_answered_by_a_figure_in_its_units() -> None:
    title = "某省政府工作报告"
    built = f"{title}\n新区建设日新月异，5300多栋楼宇拔地而起。\n"
    assert not _extract_one("新区规划总共占地多大？", title, built).answered
    assert "1770平方公里" in _extract_one("新区规划总共占地多大？", title, built + "新区规划面积1770平方公里。\n").text
    bridge = f"{title}\n大桥建成通车，每天通行车辆3万辆。\n"
    assert not _extract_one("这座大桥全长多少？", title, bridge).answered


def test_a_meeting_named_short_is_the_one_its_source_is_titled_by() -> None:
    title = "在黄河流域生态保护和高质量发展座谈会上的讲话"
    text = f"{title}\n大禹之所以能成功治理水患，原因在于尊重规律。\n"
    got = _extract_one("黄河座谈会讲话里提到大禹能成功治水，原因是什么？", title, text)
    assert "原因在于尊重规律" in got.text


def test_who_chaired_is_answered_by_the_sentence_saying_who_chaired() -> None:
    title = "专题研讨班开班"
    text = (f"{title}\n专题研讨班开班式在中央党校举行，习近平在研讨班开班式上发表重要讲话，中央委员出席开班式。\n"
            "李克强主持开班式。\n")
    got = _extract_one("研讨班的开班式，主持人是谁？", title, text)
    assert "李克强主持开班式" in got.text and "发表重要讲话" not in got.text  # "主持" says it; a speech does not


def test_a_figure_is_about_what_its_own_sentence_names() -> None:
    from bot.answer import sentence_candidates

    text = "某省政府工作报告\n推进农牧区劳动力转移就业，做好技能培训。全省新增受益学生25万人。\n"
    src = Source(1, "r.txt", 0, len(text), 0, len(text), "某省政府工作报告", "", 2026)

    def subject_of(question: str) -> float:
        weights = subject_weights(key_terms(tokenize(question), {}, question), lambda t: 1.0)
        part = analyse_question(question).parts[0]
        cands = sentence_candidates(text, src, weights, part, 0, question_bigrams(question))
        return max(c.subject for c in cands if c.units[0].text == "全省新增受益学生25万人。")

    assert subject_of("农牧区劳动力转移就业多少人？") == 0.0  # the figure's own sentence names none of it
    assert subject_of("农牧区劳动力转移就业有什么进展？") > 0.0  # elsewhere the paragraph before counts


def test_a_place_named_sends_the_whole_read_to_that_places_document() -> None:
    from bot.answer import Thresholds

    national = "国务院政府工作报告\n全国科技投入持续增长。\n"
    province = "某某省政府工作报告\n各位代表：\n" + "过去一年工作扎实推进。" * 40 + "\n全省科技创新投入7232亿元。\n"
    docs = {"gwr.txt": national, "prov.txt": province}
    question = "某某省全省科技创新投入有多少？"
    cut = province.index("过去一年")
    src = [Source(1, "gwr.txt", 0, len(national), 0, len(national), "国务院政府工作报告", "", 2026),
           Source(2, "prov.txt", 0, cut, 0, cut, "某某省政府工作报告", "", 2026)]
    weights = subject_weights(key_terms(tokenize(question), {}, question), lambda t: 1.0)
    got = extract(analyse_question(question), src, docs, weights, question_bigrams(question), Thresholds(top_about=0.2))
    assert "7232亿元" in got.text and got.units[0].n == 2


def test_a_person_named_in_the_title_block_binds_the_document() -> None:
    from bot.answer import Thresholds

    title = "第二届全国人民代表大会第三次会议关于政府工作报告的决议"
    head = f"{title}\n会议听取了周恩来总理代表国务院所作的政府工作报告。\n"
    body = "会议同意国务院的建议，授权全国人民代表大会常务委员会审查和批准国民经济调整计划。\n"
    question = "批准周恩来总理的政府工作报告时，同意授权全国人大常委会审查批准什么计划？"
    weights = subject_weights(key_terms(tokenize(question), {}, question), lambda t: 1.0)
    q = analyse_question(question)
    assert q.persons == ["周恩来"]
    for text, answered in ((head + body, True), (f"{title}\n会议听取了国务院所作的政府工作报告。\n{body}", False)):
        src = [Source(1, "r.txt", 0, len(text), 0, len(text), title, "", 1960)]
        got = extract(q, src, {"r.txt": text}, weights, question_bigrams(question), Thresholds(top_about=0.2))
        assert got.answered == answered and (not answered or "调整计划" in got.text)


def test_a_report_that_names_no_speaker_neither_confirms_nor_rules_out_the_person_asked() -> None:
    from bot.answer import PERSON_REASON, Thresholds

    title = "2018年中华人民共和国国务院政府工作报告"
    text = f"{title}\n各位代表：\n今年发展主要预期目标是：国内生产总值增长6.5%左右。\n"

    def ask_(question: str, speaker: str = "") -> Extraction:
        weights = subject_weights(key_terms(tokenize(question), {}, question), lambda t: 1.0)
        q = analyse_question(question, analyse(question).named_years)
        src = [Source(1, "gwr.txt", 0, len(text), 0, len(text), title, speaker, 2018)]
        return extract(q, src, {"gwr.txt": text}, weights, question_bigrams(question), Thresholds(top_about=0.2))

    named = "李克强在2018年政府工作报告中提出的经济增长预期目标是多少？"
    assert "6.5%" in ask_(named).text  # the report the question names, whose speaker is not recorded
    # a report recorded as someone else's
    got = ask_(named, speaker="国务院总理 温家宝")
    assert not got.answered and got.reason == PERSON_REASON.format(who="李克强")
    assert got.reason == "资料中没有找到李克强就此所讲的内容，无法回答这个问题。"
    # no report named: a text that never names the person is not theirs
    assert not ask_("李克强提出的经济增长预期目标是多少？").answered


def test_a_congress_report_named_by_its_congress_is_the_one_whose_speaker_is_unknown() -> None:
    from bot.answer import Thresholds

    question = "江泽民在十五大报告中提出的基本纲领是什么？"
    text = "高举旗帜 (十五大)\n大会提出党在社会主义初级阶段的基本纲领是建设有中国特色社会主义的经济、政治和文化。\n"
    weights = subject_weights(key_terms(tokenize(question), {}, question), lambda t: 1.0)
    q = analyse_question(question)
    for title, answered in (("高举旗帜 (十五大)", True), ("全面建设小康社会 (十六大)", False)):
        src = [Source(1, "c.md", 0, len(text), 0, len(text), title, "", None)]
        got = extract(q, src, {"c.md": text}, weights, question_bigrams(question), Thresholds(top_about=0.2))
        assert got.answered == answered, title


def test_a_month_named_with_its_year_rules_out_a_document_of_another_month() -> None:
    from bot.answer import MONTH_REASON, Thresholds

    title = "习近平参加上海代表团审议"
    visit = f"{title}\n习近平在参加上海代表团审议时强调，上海要在推进浦东开发开放中走在前列。\n"
    question = "2017年3月习近平参加上海代表团审议时，对上海提出了什么要求？"
    q = analyse_question(question)
    assert q.months == [(2017, 3)]
    weights = subject_weights(key_terms(tokenize(question), {}, question), lambda t: 1.0)

    def ask_(text: str, date: str) -> Extraction:
        src = [Source(1, "n.txt", 0, len(text), 0, len(text), title, "习近平", 2017, "", date)]
        return extract(q, src, {"n.txt": text}, weights, question_bigrams(question), Thresholds(top_about=0.2))

    assert "走在前列" in ask_(visit, "2017-03-05").text
    assert "走在前列" in ask_(visit, "2017").text  # no month recorded: not ruled out
    got = ask_(visit, "2017-10-31")
    assert not got.answered and got.reason == MONTH_REASON.format(when="2017年3月")
    assert got.reason == "资料中没有找到2017年3月的相关内容，无法回答这个问题。"
    recalled = visit.replace("习近平在参加", "今年三月，习近平在参加")  # a later text that says the month
    assert "走在前列" in ask_(recalled, "2017-10-31").text


def test_a_figure_taken_loosely_must_count_what_was_asked_in_its_own_clause() -> None:
    from bot.answer import Thresholds

    title = "2026年某区人民政府工作报告"
    review = "一、2025年工作回顾\n全区社会消费品零售总额262亿元，增长6.3%。\n二、2026年目标任务\n"
    goals = f"{title}\n{review}2026年是开局之年。全区经济社会发展的主要预期目标是：地区生产总值增长5.5%左右；"
    question = "某区2026年政府工作报告给社会消费品零售总额定的增长目标是多少？"
    weights = [("社会", 2.2), ("消费品", 2.8), ("零售总额", 2.8), ("目标", 1.7)]  # rarity as in a real archive
    q = analyse_question(question, analyse(question).named_years)

    def ask_(text: str) -> Extraction:
        src = [Source(1, "r.txt", 0, len(text), 0, len(text), title, "", 2026)]
        return extract(q, src, {"r.txt": text}, weights, question_bigrams(question), Thresholds(top_about=0.2))

    assert not ask_(goals + "\n").answered  # a growth target, of another amount
    got = ask_(goals + "社会消费品零售总额增长6%左右。\n")
    assert got.answered and "社会消费品零售总额增长6%左右" in got.text


# --- what a question pins down beyond its subject: the event, the kind of document, the role, the day ---
BRIEFING = """某县防汛工作会议情况通报
6月3日，某县召开防汛工作会议。县长周文彬主持会议。副县长李华、县人大常委会副主任赵平出席会议。
正式会议定于6月在县政府召开。
正式会议具体时间为6月18日上午。
"""
SPEECH = """在2026年全县经济工作会议上的讲话
今年全县地区生产总值要增长７％左右。
"""
PROVINCE = """2026年某省政府工作报告
全省地区生产总值增长５％左右。
"""
DOCS |= {"briefing.txt": BRIEFING, "speech.txt": SPEECH, "province.txt": PROVINCE}
TITLES |= {"briefing.txt": "某县防汛工作会议情况通报", "speech.txt": "在2026年全县经济工作会议上的讲话",
           "province.txt": "2026年浙江省政府工作报告"}
YEARS |= {"briefing.txt": 2025, "speech.txt": 2026, "province.txt": 2026}
DOCS["cities.txt"] = ("2026年某省政府工作报告\n" + "过去一年工作扎实推进。" * 40  # past the title block
                      + "\n全省地区生产总值增长５％左右，杭州市地区生产总值增长６％左右。\n")
TITLES["cities.txt"], YEARS["cities.txt"] = "2026年浙江省政府工作报告", 2026


def test_a_meeting_the_sources_do_not_name_is_refused() -> None:
    assert "周文彬主持" in ask("防汛工作会议由谁主持？", ("briefing.txt",)).text
    assert not ask("全省防汛工作会议由谁主持？", ("briefing.txt",)).answered


def test_a_report_named_with_its_year_is_answered_from_that_kind_of_document_only() -> None:
    got = ask("2026年政府工作报告把地区生产总值增长目标定为多少？", ("speech.txt", "report.md"))
    assert [u.doc_id for u in got.units] == ["report.md"] and "５.５％" in got.text
    assert "７％" in ask("2026年全县经济工作会议把地区生产总值增长目标定为多少？", ("speech.txt",)).text


def test_a_national_report_is_not_answered_from_a_provinces() -> None:
    assert ask("2026年政府工作报告把地区生产总值增长目标定为多少？", ("province.txt",)).answered
    assert not ask("2026年国务院政府工作报告把地区生产总值增长目标定为多少？", ("province.txt",)).answered


def test_a_places_own_report_is_not_answered_from_the_report_around_it() -> None:
    assert ask("浙江省2026年政府工作报告把地区生产总值增长目标定为多少？", ("cities.txt",)).answered
    assert ask("浙江2026年政府工作报告把地区生产总值增长目标定为多少？", ("cities.txt",)).answered
    assert ask("2026年浙江省政府工作报告里，杭州市地区生产总值增长目标是多少？", ("cities.txt",)).answered
    got = ask("杭州市2026年政府工作报告把地区生产总值增长目标定为多少？", ("cities.txt",))
    assert not got.answered and got.reason == "资料库中没有杭州市的工作报告，无法回答这个问题。"


def test_which_official_gets_the_sentence_with_that_title() -> None:
    got = ask("防汛工作会议上，哪位副主任出席了会议？", ("briefing.txt",))
    assert "副主任赵平" in got.text and "周文彬主持" not in got.text


def test_which_day_prefers_the_sentence_with_the_day() -> None:
    got = ask("正式会议是哪天召开的？", ("briefing.txt",))
    assert "6月18日" in got.text and "6月在县政府召开" not in got.text  # a month is no answer to "哪天"


def test_a_short_form_is_held_loosely_by_its_full_words() -> None:
    from bot.answer import share

    assert share([("人代会", 1.0)], "浙江省第十四届人民代表大会第四次会议") == 0.5
    assert share([("人代会", 1.0)], "人民群众的意见") == 0.0


def test_a_cut_asked_of_an_amount_is_answered_by_a_rate_or_an_amount() -> None:
    from bot.answer import implied_units

    assert {"%", "元"} <= set(implied_units("区级一般性支出压减多少？"))
    assert "元" not in implied_units("生产总值增长目标是多少？")  # growth: a rate only


def test_each_part_of_a_compound_question_is_about_its_own_words() -> None:
    got = ask("防汛工作会议在哪里召开？由谁主持？", ("briefing.txt",))
    assert "县政府" in got.text and "周文彬主持" in got.text


def test_the_noun_a_where_asks_with_is_not_the_subject() -> None:
    from bot.answer import part_weights
    from bot.question import Part

    weights = [("博览会", 1.0), ("城市", 1.0), ("主题", 1.0)]
    assert part_weights(weights, Part("博览会在哪座城市开幕", "where"), 2) == [("博览会", 1.0)]
    assert part_weights(weights, Part("主题是什么", "fact"), 2) == [("主题", 1.0)]
    assert part_weights(weights, Part("由谁主持", "who"), 2) == weights  # no words of its own: the whole question's


PLAN = """某县发展规划
全县发展按两步安排：第一步，到2027年建成县域物流中心；第二步，到2030年建成区域商贸枢纽。
对项目实行“两保两压”，即保民生项目，压楼堂馆所；保产业项目，压形象工程。
规划要求，始终坚持生态优先，始终坚持民生为本，始终坚持改革创新。
"""
DOCS |= {"plan.txt": PLAN}
TITLES |= {"plan.txt": "某县发展规划"}
YEARS |= {"plan.txt": 2025}


def test_a_list_written_as_clauses_is_answered_whole() -> None:
    got = ask("全县发展两步安排中，第一步和第二步分别是什么？", ("plan.txt",))
    assert "县域物流中心" in got.text and "区域商贸枢纽" in got.text  # the run of "；" clauses to its end


def test_a_numbered_set_is_answered_with_every_clause() -> None:
    got = ask("规划对项目提出的“两保两压”，具体保什么、压什么？", ("plan.txt",))
    assert "压楼堂馆所" in got.text and "压形象工程" in got.text


def test_clauses_that_open_alike_are_a_list() -> None:
    from bot.answer import inline_list

    assert inline_list("始终坚持生态优先，始终坚持民生为本，始终坚持改革创新。")
    assert inline_list("第一步，建成物流中心；第二步，建成商贸枢纽。")
    assert not inline_list("规划要求，坚持生态优先，推进改革创新。")


def test_a_count_of_people_written_with_its_noun_is_a_count_of_people() -> None:
    from bot.answer import _evidence

    assert _evidence("number", "中國在國外約有一千二百萬僑民。", "人") == 1.0
    assert _evidence("number", "現在共有黨員四百二十人。", "名") == 1.0
    assert _evidence("number", "一九八○年以前建成工业体系。") == 0.0  # a year written in Chinese is no count


def test_the_asked_thing_in_its_common_written_forms() -> None:
    from bot.answer import _asked_unit, _evidence, share
    from bot.question import Part

    assert _evidence("number", "全党现有九千六百多万名党员。", "人") == 1.0
    assert _asked_unit(Part("二十大报告里说我们党现在有多少党员", "number")) == "人"
    assert _evidence("number", "全党坚持八项规定。", "人") < 1.0  # a count of rules is no count of people
    assert _evidence("date", "国务院决定，用三年时间基本解决拖欠问题。") == 1.0
    assert _evidence("where", "全球首座实验堆在武威建成运行。") == 1.0
    year = _asked_unit(Part("中英两国政府是哪一年签署联合声明的", "date"))
    assert _evidence("date", "1984年中英两国政府正式签署联合声明。", year) == 1.0
    assert _evidence("date", "1984年中英两国政府正式签署联合声明。", "day") == 0.0  # a year is no day
    assert _evidence("date", "1984年12月中英两国政府正式签署联合声明。", "day") == 0.5  # a month, weakly
    assert _evidence("date", "1984年中英两国政府正式签署联合声明。") == 0.5  # "什么时候": a year, weakly
    assert share([("gdp", 1.0)], "地区生产总值增长5%左右") == 1.0  # an acronym and the words it stands for
    assert share([("物价", 1.0)], "居民消费价格涨幅2%左右") == 1.0  # an everyday word and the statistical term
    assert share([("增速", 1.0), ("经济总量", 1.0)], "国内生产总值增长5%左右") == 1.0
    assert share([("顺序", 1.0)], "按照农轻重的次序安排国民经济计划") == 1.0


def test_the_unit_a_how_many_asks_in_is_not_its_subject() -> None:
    from bot.answer import Thresholds

    def ask_(text: str) -> Extraction:
        question = "高竹新区的规划面积是多少平方公里？"
        docs = {"area.txt": text}
        src = [Source(1, "area.txt", 0, len(text), 0, len(text), "某省工作报告", "", 2026)]
        weights = subject_weights(key_terms(tokenize(question)), lambda t: 1.0)
        q = analyse_question(question, analyse(question).named_years)
        return extract(q, src, docs, weights, question_bigrams(question), Thresholds(top_about=0.2))

    # a figure in square kilometres about something else, beside the area asked about
    assert not ask_("某省工作报告\n高竹新区建设加快推进。\n开展低空运行管理试点，释放低空空域资源超12万平方公里。\n").answered
    assert "262平方公里" in ask_("某省工作报告\n高竹新区规划面积262平方公里，建设加快推进。\n").text


def test_how_much_each_of_two_things_is_answered_for_both() -> None:
    text = ("2026年某省政府工作报告\n今年主要目标是：经济增长5.5%左右，城镇新增就业70万人以上；\n"
            + "全省上下要坚定信心。" * 20 + "\n粮食产量稳定在550亿斤以上。\n")
    docs = {"goals.txt": text}
    question = "城镇新增就业和粮食产量的预期目标各是多少？"
    src = [Source(1, "goals.txt", 0, len(text), 0, len(text), "2026年某省政府工作报告", "", 2026)]
    weights = subject_weights(key_terms(tokenize(question)), lambda t: 1.0)
    got = extract(analyse_question(question), src, docs, weights, question_bigrams(question))
    assert "70万人" in got.text and "550亿斤" in got.text


def test_a_target_asked_is_not_answered_by_last_years_result() -> None:
    got = ask("2026年全县地区生产总值增长目标是多少？", ("report.md",))
    assert "５.５％左右" in got.text and "增长６％" not in got.text


ELEVATOR = """某局局长办公会讲话
（一）加快加装电梯工作。对符合条件的项目，市级财政每部电梯补助１５万元。年底前确保完工。由局房屋管理处牵头负责。
各处室、各单位要坚持问题导向，局办公室每半月通报一次进度。
"""
DOCS |= {"elevator.txt": ELEVATOR}
TITLES |= {"elevator.txt": "某局局长办公会讲话"}
YEARS |= {"elevator.txt": 2025}


def test_the_noun_a_who_asks_with_is_not_the_subject() -> None:
    got = ask("加装电梯每部补助多少钱？这项工作归哪个处室牵头？", ("elevator.txt",))
    assert "１５万元" in got.text and "房屋管理处牵头" in got.text and "各处室" not in got.text


CHECK = """关于全县政府网站检查情况的通报
现将有关情况通报如下。

一、总体情况

本次共检查网站１２个，发现问题９个。

二、存在的主要问题

（一）弱口令问题。２个网站仍使用弱口令。

（二）更新不及时。３个网站超过３个月未更新。

三、整改要求

（一）限期整改。10月31日前完成整改。

（二）落实账号管理。口令每９０天更换一次。
"""
DOCS |= {"check.txt": CHECK}
TITLES |= {"check.txt": "关于全县政府网站检查情况的通报"}
YEARS |= {"check.txt": 2025}


def test_a_list_asked_by_its_section_heading_is_the_list_under_it() -> None:
    got = ask("网站检查通报里点出的主要问题有哪几类？", ("check.txt",))
    assert "弱口令问题" in got.text and "更新不及时" in got.text
    assert "三、整改要求" not in got.text and "限期整改" not in got.text


def test_who_is_present_is_not_who_is_responsible() -> None:
    from bot.answer import _evidence

    assert _evidence("who", "列席：区发改局、区财政局主要负责人", "牵头负责") < 1.0
    assert _evidence("who", "此项工作由区城管局牵头负责。", "牵头负责") == 1.0


def test_a_plan_asked_is_answered_without_the_word_target() -> None:
    got = ask("河道清淤计划完成多少公里？", ("minutes.txt",))
    assert "４０公里" in got.text  # "计划…多少" is not "目标是多少": the figure need not be written as a target
