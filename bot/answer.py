"""The default answer: the units of the cited documents that answer what was asked, each cited, or a
refusal that says what is missing. No model, no invented text: every word shown is the archive's own.

For each part of the question (`bot.question`), candidates of the asked kind are gathered from the
cited passages and the enumerations they sit in (`ingest.structure`):
- list / decision: an enumeration about the subject (its heading, the paragraph before it, its lead and
  its items hold the question's key terms): the lead and every item, each with its own [n]; one item
  when the question points at one ("第二项"); a decision without an enumeration is the sentence that
  states it;
- who / number / date / where / why: the sentence (cut to its clauses when long) that holds both the
  subject and the thing asked for: a responsible body or person, a figure with its unit, a date, a
  place, a reason;
- fact / yes-no: the sentences that hold most of the subject.

A unit is "about the subject" when it holds enough of the IDF weight of the question's subject terms,
counting its section heading and the lead of its list as context. When no unit of the asked kind is
about the subject, that part is unanswered; when every part is, the question is refused with the reason
(`Extraction.reason`). Titles, headings and markup are never answer units.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Callable, Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import lru_cache

from bot.question import Kind, Part, Question, owned_by, titled_by
from bot.refusal import satisfies
from bot.types import Role, Unit
from core.zh import (
    ACRONYMS,
    PROVINCES,
    SENTENCE_ENDS,
    SYNONYMS,
    normalize,
    sentence_spans,
    squash,
    years_in,
)
from ingest.headings import find_headings
from ingest.structure import Enumeration, enumerations

# Words that say what kind of answer is wanted, not what it is about.
KIND_WORDS = frozenset(
    ["会议", "决定", "议定", "要求", "提出", "部署", "安排", "牵头", "负责", "负责人", "部门", "单位", "机构", "主持", "主要", "工作", "情况", "内容", "措施", "举措", "办法", "怎么办", "怎么", "如何", "怎样", "哪些", "什么", "多少", "时候", "时间", "何时", "问题", "方面", "具体", "分别", "包括", "有关", "相关", "明确", "提到", "强调", "指出", "表示", "讲话", "报告", "文件", "一项", "几项", "项目", "事项", "原因", "目的", "为了", "地点", "哪里",
     "召开", "举行", "举办", "开幕", "闭幕",  # what happened at a meeting: the event a date or place is asked of
     "总额", "总量", "总数", "数量", "规模", "大约", "大概", "一般"]  # an amount asked, not what it is of
)
# Years and words of time pin down when (`fits`, `Question.years`); they are not what a question is about.
_TIME = re.compile(r"^(?:(?:19|20)\d{2}|今年|去年|明年|前年|本年|当年|当时|现在|年底|年初|年内|年末|上半年|下半年|近日|目前)$")

_FIGURE = re.compile(
    r"[0-9０-９]+(?:[.．,，][0-9０-９]+)*\s*(?:%|％|‰|[万亿千百]?[\u4e00-\u9fff]{0,3})"
    r"|[零〇一二两三四五六七八九十百千万亿]+(?:点[零一二三四五六七八九]+)?[多余]?(?:%|[万亿千百]?[个项条家所次倍名处座辆吨人户件批天位类台套元亩米周年]"
    r"|[万亿千百]?[\u4e00-\u9fff]{1,2}?[民员])"  # "一千二百万侨民", "三百名党员"
    r"|百分之[零一二三四五六七八九十点]+|[一二三四五六七八九十]+成"
)
_YEAR_ONLY = re.compile(r"^[0-9０-９]{4}\s*年")
_BARE_YEAR = re.compile(r"^[一二三四五六七八九〇○零0]{4}年")
_DATE = re.compile(
    r"[0-9０-９]{1,2}月[0-9０-９]{1,2}[日号]|[0-9０-９一二三四五六七八九十]{1,3}月(?:底|中旬|上旬|下旬|前|份|末)?"
    r"|(?:19|20)[0-9]{2}年(?:底|末|初|内|前)?|[一二三四五六七八九〇○零0]{4}年|年底|年内|月底|前完成|之前|日前|以前|当天|当日"
    r"|上午|下午|[0-9０-９]{1,2}日"
    r"|[用在花][一二三四五六七八九十两0-9０-９]{1,3}(?:年|个月|天)(?:时间|左右|内)?"  # "用三年时间基本解决"
)
_DAY = re.compile(r"[0-9０-９一二三四五六七八九十]{1,3}\s*[日号]|当天|当日")
_ASKS_YEAR = re.compile(r"哪年|哪一年|哪几年|什么年份|何年|哪个年份")
_ASKS_DAY = re.compile(r"哪天|哪一天|哪日|几月几[日号]|几号|哪几天|哪几日|哪两天|什么日子|日期")
_WHO = re.compile(r"由[^，。；]{1,24}?(?:牵头|负责|承担|组织|实施|会同|主持|落实)|牵头|负责(?!人|同志)|主持|承担|分管|会同")
_LEADS = re.compile(r"牵头|负责(?!人|同志)")  # "由区城管局牵头负责"; not "各部门主要负责人" (who is present)
# A person or body named without saying what they do: weaker evidence of "who".
_WHO_WEAK = re.compile(
    r"同志|主持人|书记|市长|区长|省长|县长|局长|主任|总理|部长|委员|主席|总书记|处长|科长"
    r"|[\u4e00-\u9fff]{1,12}(?:局|委|办|厅|部|处|科|中心|政府|小组|公司|大队|支队|委员会|办公室)"
)
_WHERE = re.compile(
    r"在[^，。；]{1,16}?(?:召开|举行|开幕|闭幕|举办|考察|调研|视察|进行|建设|设立|建成|落户|落地|投运|运行|开工"
    r"|会见|会谈|出席|接见|访问)|地点|位于|坐落|地处"
    r"|(?<!之)[\u4e00-\u9fff]{2,}(?:省|市|县|区|村|镇|港|湾|河|山|路|街|广场|会议室|大厦|中心)(?!口|线|径|子|上)"
)  # not "古丝绸之路", "十字路口", "路线", "山上"
_WHY = re.compile(r"为了|旨在|目的|因为|由于|是为|以便|从而|为的是|之所以|原因|为此|以确保|有利于|意义"
                  r"|[，,]以(?!及|上|下|来|后|前|内|外|往|为)[\u4e00-\u9fff]|关系到|事关|关乎|直接关系|反映出|说明了"
                  r"|[，,]主要是|用意|着眼于")  # "定为8%左右，主要是强调好字当头"
_DECISION = re.compile(r"决定|议定|要求|提出|部署|安排|明确|同意|确定|必须|务必|力争|重点|着力|坚持|推进|加快|实施")
_EVIDENCE: dict[Kind, re.Pattern[str]] = {
    "number": _FIGURE, "date": _DATE, "who": _WHO, "where": _WHERE, "why": _WHY, "decision": _DECISION,
}
NEEDS_EVIDENCE: frozenset[Kind] = frozenset({"number", "date", "who", "where", "why"})
SOFT_EVIDENCE: frozenset[Kind] = frozenset({"why", "where"})  # preferred, not required: "到哪里" may be a bare name
_NUMBERED_HEADING = re.compile(r"^\s*(?:[一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[）)]|第[一二三四五六七八九十百]+[章节部分篇])")
_INLINE_LIST = re.compile(r"、|和|及|以及|”“|”、“")  # "A、B和C", "“A”“B”"
_MARKUP = re.compile(r"^\s*(?:#{1,6}\s|[-*+]\s|\||<)")
_CLAUSE = re.compile(r"[^，,；;：:]+[，,；;：:]?")
_SCOPE = re.compile(r"^(?:第[一二三四五六七八九十两0-9]{1,3}[项条点个件]?|[一二三四五六七八九十两0-9]{1,3}[项条点个件])$")  # "第二项" points at an item
_ASKED_UNIT = re.compile(r"(?:多少|几)(万|亿|千|百)?([\u4e00-\u9fff%])")

_ASKS_GOAL = re.compile(r"目标|预期")  # a target by name: only a figure written as one answers ("计划整治多少条" need not)
_ASKS_TARGET = re.compile(r"目标|预期|计划|拟|安排|力争|要求")
_TARGET = re.compile(r"以上|左右|以内|以下|力争|预期|目标|计划|拟|确保|将|要")
HEADER_CHARS = 400  # the first characters of a document: its title block
PARAGRAPH_CONTEXT = 200  # characters of the unit's own paragraph before it read as its context
MAX_SENTENCE = 160  # characters of one answer sentence at most (longer ones are cut to their clauses)
MAX_RUN = 320  # characters of a run of "；" clauses that lists things (a list asked of one sentence)
_RUN = re.compile(r"[；;]")
MAX_ITEM = 150  # characters of one list item shown at most (to its first sentence end)
MAX_ITEMS = 20

REASONS: dict[Kind, str] = {
    "number": "资料中提到了{subject}，但没有给出所问的数量，无法回答这个问题。",
    "date": "资料中提到了{subject}，但没有给出所问的时间，无法回答这个问题。",
    "who": "资料中提到了{subject}，但没有说明由谁负责，无法回答这个问题。",
    "where": "资料中提到了{subject}，但没有给出所问的地点，无法回答这个问题。",
    "why": "资料中提到了{subject}，但没有说明原因或目的，无法回答这个问题。",
}
SPEECH_REASON = "资料中没有找到{who}这次讲话的内容，无法回答这个问题。"
PERSON_REASON = "资料中没有找到{who}就此所讲的内容，无法回答这个问题。"
MONTH_REASON = "资料中没有找到{when}的相关内容，无法回答这个问题。"
OWNER_REASON = "资料库中没有{owner}的工作报告，无法回答这个问题。"


@dataclass
class Extraction:
    units: list[Unit] = field(default_factory=list)
    note: str = ""  # after the units: which parts of a compound question found no answer
    reason: str = ""  # why nothing was found ("" when answered)
    unanswered: list[int] = field(default_factory=list)  # parts with no unit of their kind

    @property
    def answered(self) -> bool:
        return bool(self.units)

    @property
    def text(self) -> str:
        """The answer with [n] markers; a list's lead and items each on their own line."""
        return render(self.units) + self.note


@dataclass
class Source:
    """A cited passage as the extractor sees it."""

    n: int
    doc_id: str
    start: int  # the cited window in the document text
    end: int
    hit_start: int
    hit_end: int
    title: str = ""
    speaker: str = ""
    year: int | None = None  # the year the document belongs to
    meeting: str = ""
    date: str = ""  # the document's date as catalogued: "2017-10-31", or a year alone


@dataclass
class Candidate:
    score: float
    subject: float
    units: list[Unit]
    lead_subject: float = 0.0  # a list's: how much its lead, heading and the words before it hold the subject
    evidence: float = 0.0  # a sentence's: how clearly it holds the kind of thing asked (`_evidence`)
    features: tuple[float, ...] = ()  # a sentence's: what its score weighs (`FEATURES`)
    prior: float = 1.0  # a sentence's: what its weighed score is multiplied by (its passage's rank)


Weights = Sequence[tuple[str, float]]


DOCUMENT_CACHE = 1024  # documents whose analyses (`prepare`) are kept


@lru_cache(maxsize=DOCUMENT_CACHE)
def _enumerations(text: str) -> list[Enumeration]:
    return enumerations(text)


@lru_cache(maxsize=DOCUMENT_CACHE)
def _headings(text: str) -> tuple[list[int], list[str]]:
    return find_headings(text)


def _heading_before(text: str, pos: int) -> str:
    starts, labels = _headings(text)
    best = ""
    for s, label in zip(starts, labels, strict=True):
        if s > pos:
            break
        best = label
    return best


@lru_cache(maxsize=DOCUMENT_CACHE)
def _flat(text: str) -> str:
    """A whole cited document, squashed: large, so a cache of their own (not `_sq`'s)."""
    return squash(text)


def prepare(texts: Iterable[str]) -> None:
    """Analyse documents once, ahead of the questions that cite them: their enumerations, headings and
    squashed text (`DOCUMENT_CACHE` of them at most). Without it the first question citing a document pays."""
    for text in itertools.islice(texts, DOCUMENT_CACHE):
        _enumerations(text)
        _headings(text)
        _flat(text)


# Candidate texts recur across the parts of a question and across questions: normalise each once.
_sq = lru_cache(maxsize=1 << 16)(squash)
_norm = lru_cache(maxsize=1 << 14)(normalize)


def matchable(weights: Weights, docs: Sequence[str]) -> list[tuple[str, float]]:
    """The subject terms the cited documents can match at all (a term no cited document holds, even
    loosely, says what is asked, "多大年龄", not what about), without the pieces of a longer term that is
    kept ("区政" and "政府" beside "区政府"). All terms when none is matchable."""
    flats = [_flat(d) for d in docs]
    present = [(t, w) for t, w in weights if any(_holds(f, t) for f in flats)]
    if not present:
        return list(weights)
    return [(t, w) for t, w in present if not any(t != o and t in o for o, _ in present)]


def _own_heading(text: str, pos: int, title: str) -> str:
    """The heading of the section `pos` is in, "" when that is only the document's title."""
    heading = _heading_before(text, pos)
    return "" if not _sq(heading) or _sq(heading) in _sq(title) else heading


def subject_weights(terms: Sequence[str], idf: Callable[[str], float]) -> list[tuple[str, float]]:
    """The question's subject terms (key terms without the words that only say what kind is asked)."""
    out = [(_sq(t), idf(t)) for t in terms if t not in KIND_WORDS and not _SCOPE.match(t) and not _TIME.match(t)]
    out = [(t, w) for t, w in out if t and w > 0]
    return out


def _holds(hay: str, term: str) -> float:
    """1 when the text holds the term; 0.5 when it holds it loosely ("老人" in "老年人": the characters in
    order within a few places; for longer terms, most of their character pairs, or all their characters in
    order as a short form holds them); else 0."""
    if term in hay or any(full in hay for full in ACRONYMS.get(term, ()) + SYNONYMS.get(term, ())):
        return 1.0
    if len(term) == 2:
        i = hay.find(term[0])
        while i != -1:
            if term[1] in hay[i + 1 : i + 4]:
                return 0.5
            i = hay.find(term[0], i + 1)
        return 0.0
    pairs = [term[i : i + 2] for i in range(len(term) - 1)]
    if pairs and sum(p in hay for p in pairs) * 2 >= len(pairs) + 1:
        return 0.5
    return 0.5 if _abbreviates(term, hay) else 0.0


def _abbreviates(term: str, hay: str) -> bool:
    """Is the term a short form of words in the text: its characters in order, within twice its length
    ("人代会" in "人民代表大会", "发改委" in "发展和改革委员会")?"""
    i = hay.find(term[0])
    while i != -1:
        pos, ok = i, True
        for ch in term[1:]:
            pos = hay.find(ch, pos + 1, i + 2 * len(term) + 2)
            if pos == -1:
                ok = False
                break
        if ok:
            return True
        i = hay.find(term[0], i + 1)
    return False


def share(weights: Weights, *texts: str, total: float | None = None) -> float:
    """IDF-weighted share of the subject terms held by the texts together. `total`: the weight of all the
    terms, when `weights` leaves out those the texts cannot hold (`_live`)."""
    total = sum(w for _, w in weights) if total is None else total
    if not total:
        return 1.0  # nothing to be about ("会议决定了什么？"): retrieval alone chose the passages
    hay = "".join(_sq(t) for t in texts)
    return sum(w * _holds(hay, t) for t, w in weights) / total


def _live(weights: Weights, text: str) -> list[tuple[str, float]]:
    """The terms a document holds at least loosely: no sentence of it holds the others (a sentence is
    scored against these, over the weight of all: `share(..., total=)`)."""
    flat = _flat(text)
    return [(t, w) for t, w in weights if _holds(flat, t)]


def about_weights(weights: Weights, title: str) -> list[tuple[str, float]]:
    """The subject within one document: the terms its title (with its speaker) does not already
    hold ("2018年政府工作报告给财政赤字率定了多少" is about 赤字率 inside that report). None when the title
    holds every one: then every part of the document is about the subject (`share` of no terms is 1)."""
    flat = _sq(title)
    return [(t, w) for t, w in weights if t not in flat]  # none left: the whole document is the subject


_UNIT_WORDS = {"钱": "元", "岁": "岁", "年龄": "岁", "大年龄": "岁"}
_MEASURES = "条人名位元吨公千米亩户家所座辆台套件批次天倍岁%处艘架张份册部场周平立度斤克瓦"  # not 个/项: any count
_TITLES = frozenset(["总理", "副总理", "主席", "书记", "省长", "市长", "区长", "县长", "局长", "厅长", "处长", "科长", "主任", "部长", "委员", "同志", "副县长", "副市长", "副区长", "副省长", "副局长"])
_PEOPLE = ("人", "名", "位", "民", "员")
_MONEY = ("元",)
_AREA = ("平方米", "公顷", "亩", "平方公里")
_LENGTH = ("公里", "千米", "米")
_MEASURED = (_MONEY, _AREA, _LENGTH)  # an amount only a figure in its units gives ("占地多大": not "5300多栋")
_DATE_FIGURE = re.compile(r"^[0-9０-９]{1,2}\s*[月日号时]")  # "5月12日" is a date, not a count
_IMPLIED_UNITS: list[tuple[re.Pattern[str], tuple[str, ...]]] = [
    (re.compile(r"投资|资金|经费|预算|收入|支出|赤字|国债|债券|产值|总值|生产总值|GDP|消费额|贷款|补贴|补助|金额|拨款|多少钱"),
     _MONEY),
    (re.compile(r"人数|人口|就业|职工|学生|干部|人次"), _PEOPLE),
    (re.compile(r"面积|占地"), _AREA),
    (re.compile(r"里程|长度|全长"), _LENGTH),
]
_RATE = ("%", "％", "倍", "成", "百分点", "分之")  # 百分之十, 三分之一: rates written in words
_ASKS_DURATION = re.compile(r"多长时间|多久|多少(?:年|个月|天|日|周|小时)|几(?:年|个月|天|周|小时)")
_DURATION = ("年", "月", "周", "天", "日", "小时", "分钟")
_ASKS_RATIO = re.compile(r"比重|比例|占比|百分之|百分点")  # a share of a whole: a rate, whatever it is of
_ASKS_RATE = re.compile(r"增长|增速|增幅|下降|降低|提高.{0,4}(?:多少|几)")
_ASKS_CUT = re.compile(r"(?:压减|压缩|削减|减少|缩减|节约|降低|增加).{0,4}(?:多少|几)")  # a rate or an amount
_UNIT_ALIASES = {"人": _PEOPLE, "名": _PEOPLE, "位": _PEOPLE, "公": ("公里", "千米", "公顷"), "千": ("千米", "公里")}
_ROLE_VERB = {"主持人": "主持", "召集人": "召集"}  # "主持人是谁": "李克强主持开班式" says it
_ROLE = re.compile(r"联系人|主持人|负责人|记录人|讲话人|报告人|召集人|签发人|分管")


def _asked_unit(part: Part) -> str:
    """The unit a "how many" asks for ("多少条" -> 条, "多少钱" -> 元, "多大年龄" -> 岁), "" when generic; for
    a "when", "day" when it asks for the day ("哪天", "几月几日"), "year" for the year ("哪一年")."""
    if part.kind == "date":
        return "day" if _ASKS_DAY.search(part.text) else "year" if _ASKS_YEAR.search(part.text) else ""
    if "年龄" in part.text:
        return "岁"
    if _COUNTS_PEOPLE.search(part.text):
        return "人"  # "多少党员", "几名代表": people, however written ("四百二十人", "三百名党员", "侨民")
    m = _ASKED_UNIT.search(part.text)
    if not m or m.group(2) not in _MEASURES:
        return ""
    return _UNIT_WORDS.get(m.group(2), m.group(2))


_COUNTS_PEOPLE = re.compile(r"(?:多少|几)(?:万|亿|千|百)?(?:名|位)?[\u4e00-\u9fff]{0,3}?(?:党员|代表|委员|干部|职工|员工|工人|农民|学生|教师|医生|居民|群众|人员|人口|侨民|华侨)")


_TITLED = re.compile(r"(?:哪位|哪名|哪一位|什么)((?:[\u4e00-\u9fff]{0,4}?)(?:副)?(?:总书记|总理|主席|书记|省长|市长|区长|县长|局长|厅长|部长|主任|委员|国务委员|常委|副委员长|委员长))")


def _asked_role(part: Part) -> str:
    """For "who": the role asked about ("联系人是谁" -> 联系人; "由谁牵头" -> 牵头; "哪位国务委员" -> 国务委员),
    "" when none."""
    m = _TITLED.search(part.text)
    if m:
        return m.group(1)
    m = _ROLE.search(part.text)
    if m:
        return m.group(0)
    for verb in ("牵头", "负责", "主持", "承担"):
        if verb in part.text:
            return "牵头负责" if verb in "牵头负责" else verb
    return ""


def _asked(part: Part) -> tuple[str, tuple[str, ...]]:
    """What `_evidence` looks for beyond the kind: the unit or role asked, and the units a count implies."""
    unit = _asked_role(part) if part.kind == "who" else _asked_unit(part)
    return unit, implied_units(part.text) if part.kind == "number" else ()


def implied_units(question: str) -> tuple[str, ...]:
    """The units a "how many" implies by what it counts: "总投资是多少" wants 元, "遇难人数" 人; a growth asked
    of any amount ("生产总值增长目标是多少") wants a rate, and so does a share ("收入的多大比例": not 元)."""
    if _ASKS_RATIO.search(question) or _ASKS_RATE.search(question) and not _ASKS_CUT.search(question):
        return _RATE
    if _ASKS_DURATION.search(question):
        return _DURATION  # "多长时间开一次": not the people of "干部会议"
    out: list[str] = [*_RATE] if _ASKS_CUT.search(question) else []
    for pattern, units in _IMPLIED_UNITS:
        if pattern.search(question):
            out.extend(units)
    return tuple(out)


def _counts(text: str) -> list[str]:
    """The figures a (normalised) text counts with, each with the character after it (a unit of four:
    "1770平方公里"): not years, dates or ordinals ("第三")."""
    return [m.group(0) + text[m.end() : m.end() + 1] for m in _FIGURE.finditer(text)
            if not _YEAR_ONLY.match(m.group(0)) and not _BARE_YEAR.match(m.group(0))
            and not _DATE_FIGURE.match(m.group(0)) and text[max(0, m.start() - 1) : m.start()] != "第"]


def _evidence(kind: Kind, text: str, unit: str = "", implied: tuple[str, ...] = ()) -> float:
    """How clearly a unit holds the kind of thing asked: 1 clear, 0.5 weak, 0 none."""
    pattern = _EVIDENCE.get(kind)
    if pattern is None:
        return 0.0
    text = _norm(text)  # 個/項, full-width digits: read alike
    hits = [m.group(0) for m in pattern.finditer(text)]
    if kind == "date" and hits and all(_YEAR_ONLY.match(h) or _BARE_YEAR.match(h) for h in hits):
        # a year alone answers "哪一年", weakly "什么时候", not "哪天/几月几日"
        return 1.0 if unit == "year" else 0.0 if unit == "day" else 0.5
    if kind == "date" and unit == "day" and hits and not _DAY.search(text):
        return 0.5  # "哪天", "几月几日": a month or a year is a weak answer
    if kind == "number":
        hits = _counts(text)
        units = _UNIT_ALIASES.get(unit, (unit,)) if unit else implied
        if units:
            return 1.0 if any(u in h for h in hits for u in units) else 0.3 if hits else 0.0
        return 1.0 if hits else 0.0
    if kind == "who" and unit:  # unit: the role asked ("联系人", "牵头负责" …)
        if (_LEADS.search(text) if unit == "牵头负责" else _ROLE_VERB.get(unit, unit) in text):
            return 1.0
        return 0.4 if hits or _WHO_WEAK.search(text) else 0.0
    if not hits and kind == "who" and _WHO_WEAK.search(text):
        return 0.4
    return 1.0 if hits else 0.0


def _clip(text: str, start: int, end: int, limit: int) -> tuple[int, int]:
    """A sentence longer than `limit` cut to its first clauses (at least one)."""
    if end - start <= limit:
        return start, end
    pos = start
    for m in _CLAUSE.finditer(text, start, end):
        if m.end() - start > limit and pos > start:
            break
        pos = m.end()
    return start, max(pos, start + 1)


def _focus(text: str, start: int, end: int, weights: Weights, kind: Kind, limit: int) -> tuple[int, int]:
    """A long sentence cut to the run of clauses that holds the subject and, nearest to it, the asked thing
    (a clause with a figure, a date, a responsible body …)."""
    if end - start <= limit:
        return start, end
    clauses = [(m.start(), m.end()) for m in _CLAUSE.finditer(text, start, end)]
    if not clauses:
        return start, end
    about = [share(weights, text[a:b]) for a, b in clauses]
    best = max(range(len(clauses)), key=lambda i: about[i])
    lo = hi = best
    if kind in NEEDS_EVIDENCE and not _evidence(kind, text[clauses[best][0] : clauses[best][1]]):
        with_ev = [i for i, (a, b) in enumerate(clauses) if _evidence(kind, text[a:b]) >= 1.0]
        if with_ev:
            e = min(with_ev, key=lambda i: abs(i - best))
            if clauses[max(e, best)][1] - clauses[min(e, best)][0] <= int(limit * 1.5):
                lo, hi = min(e, best), max(e, best)
    while True:  # grow towards the better neighbour while it fits
        options = [i for i in (lo - 1, hi + 1) if 0 <= i < len(clauses)]
        options = [i for i in options if clauses[max(hi, i)][1] - clauses[min(lo, i)][0] <= limit]
        if not options:
            break
        i = max(options, key=lambda j: about[j])
        lo, hi = min(lo, i), max(hi, i)
    a, b = clauses[lo][0], clauses[hi][1]
    while b > a and text[b - 1] in "，,；;：:":
        b -= 1
    return a, b


def _is_heading_or_markup(text: str, start: int, end: int, title: str = "") -> bool:
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line = text[line_start : len(text) if line_end == -1 else line_end]
    if _MARKUP.match(line):
        return True
    if _NUMBERED_HEADING.match(line) and len(line.strip()) <= 40 and not re.search(r"[。；！？!?;]", line):
        return True  # "三、关于共享单车停放管理"; not "（一）…，由县商务局牵头负责；", an item
    # the document's title repeated as its first line ("……的通知") is not an answer; a label line
    # ("主持人：…", "——2026年1月14日在……会议上") is: it states who, when and where
    return bool(title) and _sq(line) == _sq(title)


def _sentences(text: str, src: Source) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sentence_spans(text[src.start : src.end]):
        a, b = a + src.start, b + src.start
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b - a >= 4 and not _is_heading_or_markup(text, a, b, src.title):
            out.append((a, b))
    return out


def _prior(src: Source) -> float:
    return 1.0 / (1.0 + 0.08 * (src.n - 1))


def _item_unit(text: str, src: Source, start: int, end: int, role: Role, part: int) -> Unit:
    nl = text.find("\n", start, end)
    stop = end if nl == -1 else nl
    if stop - start > MAX_ITEM:
        spans = sentence_spans(text[start:stop])
        stop = start + spans[0][1] if spans else start + MAX_ITEM
        if stop - start > MAX_ITEM:
            stop = _clip(text, start, stop, MAX_ITEM)[1]
    while stop > start and text[stop - 1] in " \t\n，,；;、":
        stop -= 1
    return Unit(src.n, src.doc_id, start, stop, text[start:stop], role, part)


def list_candidates(text: str, src: Source, weights: Weights, part_index: int, kind: Kind,
                    item: int | None, bigrams: AbstractSet[str] = frozenset()) -> list[Candidate]:
    """Enumerations near the cited passage, each as lead + items, scored by how much they are about the
    subject, how much of the question's wording their heading and lead repeat ("主要问题有哪几类" and the
    section "二、存在的主要问题"), and how close they are to what retrieval found."""
    out: list[Candidate] = []
    titled = share(weights, src.title) if weights else 0.0  # how much of the subject the title names
    weights = about_weights(weights, f"{src.title}{src.speaker}")
    for e in _enumerations(text):
        if e.end < src.hit_start - 300 or e.start > src.hit_end + 300:
            continue
        first = e.lead_start if e.lead_end > e.lead_start else e.items[0].start
        before = text[text.rfind("\n", 0, first) + 1 : first]  # the lead's paragraph up to it
        heading = _own_heading(text, e.start, src.title)
        lead = text[e.lead_start : e.lead_end]
        heads = [text[i.body_start : min(i.end, i.body_start + 60)] for i in e.items]
        about_lead = share(weights, heading, before, lead)
        about_items = share(weights, *heads)
        per_item = [share(weights, h) for h in heads]
        if (item is None and max(per_item) >= 0.5 and share(weights, heading, lead) < max(per_item)
                and sum(p >= 0.5 * max(per_item) for p in per_item) == 1):
            continue  # about one item only: the answer is inside it (a list nested there is its own candidate)
        about = max(about_lead, share(weights, heading, before, lead, *heads))
        near = 1.0 if e.start < src.hit_end and e.end > src.hit_start else 0.6
        decided = 1.0 if _DECISION.search(lead or before[-40:]) else 0.0
        score = about + 0.3 * about_lead - 0.2 * (about_items > about_lead + 0.3) + 0.2 * near
        score += 0.15 * decided * (kind == "decision") + 0.05 * min(len(e.items), 6) / 6
        score += 0.2 * (e.lead_end > e.lead_start)  # a list its text introduces ("以下10项：") is meant as one
        score += 0.3 * titled
        if bigrams:
            score += 0.3 * _repeats(heading, bigrams)
            lines = [text[i.start : i.end].strip().split("\n")[0] for i in e.items]  # a heading governs a body
            if (item is None and all(len(t) <= 30 and _NUMBERED_HEADING.match(t) for t in lines)
                    and max(_repeats(t, bigrams) for t in lines) >= 0.5):
                continue  # headings, one of them the question's words ("二、存在的主要问题"): the list is under it
        units: list[Unit] = []
        if item is not None:
            if item > len(e.items):
                continue
            it = e.items[item - 1]
            units.append(_item_unit(text, src, it.start, it.end, "item", part_index))
        else:
            if e.lead_end > e.lead_start:
                units.append(Unit(src.n, src.doc_id, e.lead_start, e.lead_end, lead, "lead", part_index))
            for it in e.items[:MAX_ITEMS]:
                units.append(_item_unit(text, src, it.start, it.end, "item", part_index))
        out.append(Candidate(score * _prior(src), about, units, about_lead))
    return out


def _repeats(heading: str, bigrams: AbstractSet[str]) -> float:
    """The share of a heading's character pairs the question repeats ("二、存在的主要问题" and "主要问题有哪几类")."""
    flat = re.sub(r"[^\u4e00-\u9fff]", "", _NUMBERED_HEADING.sub("", _sq(heading)))
    pairs = {flat[i : i + 2] for i in range(len(flat) - 1)}
    return len(pairs & bigrams) / len(pairs) if pairs else 0.0


def _spans(text: str, src: Source, kind: Kind) -> list[tuple[int, int, str]]:
    """Candidate spans in the cited window, each with the context it is read with: its sentences; for a
    list, also a run of clauses ended by "；" taken to the end of its sentence ("第一步，…；第二步，…。");
    for the kinds that need a thing (a body, a figure …), also each sentence with the next one ("…6月底前
    完成。由区城管局牵头负责。") and every list item it touches, with the item's lead as context."""
    sents = _sentences(text, src)
    out = [(a, b, "") for a, b in sents]
    if kind == "list":
        for i, (a, _end) in enumerate(sents):
            j = i
            while text[sents[j][1] - 1] in "；;" and j + 1 < len(sents) and text[sents[j][1] : sents[j + 1][0]].count("\n") <= 1:
                j += 1  # a clause ended by "；" goes on, on the same line or the next
            if j > i and sents[j][1] - a <= MAX_RUN:
                out.append((a, sents[j][1], ""))
    if kind in NEEDS_EVIDENCE:
        for (a, b), (_, d) in zip(sents, sents[1:], strict=False):
            # within a paragraph, or across a line that wraps mid-sentence (scanned pages, OCR)
            wrapped = "\n" not in text[a:d] or (text[b - 1] not in SENTENCE_ENDS and text[b:d].count("\n") == 1)
            if d - a <= MAX_SENTENCE + MAX_SENTENCE // 2 and wrapped:
                out.append((a, d, ""))
        for e in _enumerations(text):
            if e.end < src.start or e.start > src.end:
                continue
            lead = text[e.lead_start : e.lead_end]
            for it in e.items:
                if it.start < src.end and it.end > src.start and it.end - it.start > 8:
                    nl = text.find("\n", it.start, it.end)
                    out.append((it.start, it.end if nl == -1 else nl, lead))
    return out


def sentence_candidates(text: str, src: Source, weights: Weights, part: Part, part_index: int,
                        bigrams: set[str]) -> list[Candidate]:
    unit, implied = _asked(part)
    out = []
    titled = share(weights, src.title) if weights else 0.0
    weights = about_weights(weights, f"{src.title}{src.speaker}")
    total = sum(w for _, w in weights) if weights else None
    weights = _live(weights, text) if weights else weights  # the same shares, fewer terms to look for
    heading = _own_heading(text, src.hit_start, src.title)
    needs = part.kind in NEEDS_EVIDENCE
    targets = part.kind == "number" and bool(_ASKS_TARGET.search(part.text))
    for a, b, ctx in _spans(text, src, part.kind):
        if _is_heading_or_markup(text, a, b, src.title):
            continue
        a, b = _focus(text, a, b, weights, part.kind, MAX_RUN if _RUN.search(text, a, b) else MAX_SENTENCE)
        sent = text[a:b]
        about = share(weights, sent, total=total)
        # the header lines of a document ("——2026年1月14日在……会议上", "主持人：…") are about the document
        para = text[max(text.rfind("\n", 0, a) + 1, a - PARAGRAPH_CONTEXT) : a]  # the paragraph before it
        about_ctx = share(weights, heading, ctx, para, sent, total=total)
        if a < HEADER_CHARS and titled >= 0.5:
            about_ctx = max(about_ctx, titled)
        ev = _evidence(part.kind, sent, unit, implied)
        flat = _sq(sent)
        bi = sum(1 for g in bigrams if g in flat) / len(bigrams) if bigrams else 0.0
        inside = 1.0 if a < src.hit_end and b > src.hit_start else 0.0
        run = part.kind == "list" and bool(_RUN.search(sent))
        features = (about, about_ctx, ev if needs else 0.0, 0.0 if needs else ev, bi, inside, titled,
                    0.0 if run else max(0, b - a - 80) / 100, 1.0 if targets and _TARGET.search(sent) else 0.0)
        prior = _prior(src)
        score = sentence_score(features) * prior
        if run:  # a list run is as long as it lists: the more, the better
            score += 0.05 * min(4, len(_RUN.findall(sent.rstrip("；;"))))
        # a figure is about what its own sentence names: its context alone does not make it the one asked
        subject = about if part.kind == "number" and not about else max(about, 0.8 * about_ctx)
        out.append(Candidate(score, subject,
                             [Unit(src.n, src.doc_id, a, b, sent, "sentence", part_index)], evidence=ev,
                             features=features, prior=prior))
    return out


# A sentence's features, in order (`sentence_candidates`): its subject share; the share with its heading,
# context and paragraph; its evidence (`_evidence`) for kinds that need it, and for kinds that do not; the
# share of the question's bigrams it holds; inside the retrieved passage (1/0); the title's subject share;
# its length beyond 80 characters (per 100); a target figure for "目标是多少" (1/0).
FEATURES = ("about", "about_ctx", "evidence_needed", "evidence_other", "bigrams", "inside", "titled",
            "length", "target")
SENTENCE_WEIGHTS = (1.0, 0.25, 0.8, 0.35, 0.3, 0.1, 0.3, -0.2, 0.25)  # eval/fit_sentence_weights.py: docs/EVAL.md


def sentence_score(features: Sequence[float], weights: Sequence[float] = SENTENCE_WEIGHTS) -> float:
    return sum(w * f for w, f in zip(weights, features, strict=True))


_CLAUSE_END = re.compile(r"[，,；;：:。]")


def _figure_named(text: str, weights: Weights) -> bool:
    """Does a clause holding a figure also hold one of the subject's terms ("社会消费品零售总额增长6%左右",
    not "地区生产总值增长５.５％左右" for 零售总额)?"""
    return any(_counts(clause) and any(_holds(_sq(clause), t) >= 1.0 for t, _ in weights)
               for clause in _CLAUSE_END.split(_norm(text)))


def inline_list(text: str) -> bool:
    """Does a sentence list things without markers: "A、B和C", "“A”“B”", or three or more clauses
    that open alike ("始终代表…，始终代表…，始终代表…"), or a run of "；" clauses?"""
    if _INLINE_LIST.search(text) or _RUN.search(text.rstrip("；;")):
        return True
    heads = [c.strip()[:2] for c in _CLAUSE_END.split(text) if len(c.strip()) >= 4]
    return any(heads.count(h) >= 3 for h in set(heads))


def _subject_label(terms: Weights) -> str:
    best = sorted(terms, key=lambda t: -t[1])[:2]
    return "“" + "、".join(t for t, _ in best) + "”" if best else "相关内容"


def display(text: str) -> str:
    """A unit as shown in the answer text: a table row's cells joined by "，", runs of space folded."""
    return re.sub(r"[ \u3000]*\t[ \u3000\t]*", "，", text).strip()


def render(units: Sequence[Unit]) -> str:
    """The answer text: a sentence run inline; a list's lead and each item on a line of its own."""
    lines: list[str] = []
    inline = ""
    for u in units:
        shown = display(u.text)
        if u.role == "sentence":
            inline += f"{shown}[{u.n}]"
            continue
        if inline:
            lines.append(inline)
            inline = ""
        lines.append(f"{shown}[{u.n}]")
    if inline:
        lines.append(inline)
    return "\n".join(lines)


Observer = Callable[[Part, list[Candidate]], None]


@dataclass
class Thresholds:
    about: float = 0.5  # subject share a unit needs to count as being about the question's subject
    about_list: float = 0.45
    max_sentences: int = 2
    strict_unit: bool = True  # "多少条" is answered only by a figure in 条 (or a unit that counts the same)
    list_margin: float = 0.3  # a list question gets a sentence instead of a list only if it is this much more about it
    top_about: float = 0.5  # the share that will do in the `top_n` first-ranked passages when nothing else does
    observe: Observer | None = None  # see `extract`
    whole_first: bool = True  # when nothing answers, read the whole first-ranked document (about the place asked)
    strong_first: bool = True  # a weak answer gives way to a clear one in the first-ranked passages
    strong: bool = False  # only units that clearly hold the kind asked
    loose: bool = False  # the looser pass over the first-ranked passages (`top_about`)
    top_n: int = 3  # chosen on the tuning half, dev and old held-out sets (docs/EVAL.md): 2 refused more, 5 answered near misses


_ASKED_NOUN = "(?:哪座|哪个|哪一个|哪位|哪名|哪家|哪所|哪条|哪种|哪类|哪片|哪一|什么)"
# a unit of measure a "how many" asks in ("多少平方公里", "几亿元"): what the answer counts in, not its subject
_MEASURE_TERM = re.compile(r"^[万亿千百]*(?:平方|立方)?(?:公里|千米|米|公顷|亩|元|美元|吨|千瓦|千瓦时|人次)$")


def part_weights(weights: Weights, part: Part, parts: int) -> list[tuple[str, float]]:
    """The subject of one part of a question. The noun a "where/when/who" asks with ("哪座城市", "什么时间",
    "哪个处室") and the unit a "how many" asks in ("多少平方公里") are the kind of the answer, not what it is
    about (a title, "哪位国务委员", is the role the answer must name: `_asked_role`). In a compound question a
    part is about its own terms ("博览会在哪座城市开幕？主题是什么？": the first part is about the 博览会, the
    second about its 主题); a part without any ("由谁负责？") about the whole question's."""
    flat = _sq(part.text)
    out = list(weights)
    if part.kind in ("where", "date") or (part.kind == "who" and not _TITLED.search(part.text)):
        out = [(t, w) for t, w in out if not re.search(_ASKED_NOUN + re.escape(t), flat)] or out
    if part.kind == "number":
        out = [(t, w) for t, w in out if not (_MEASURE_TERM.match(t) and re.search("(?:多少|几)" + re.escape(t), flat))] or out
    own = [(t, w) for t, w in out if t in flat]
    return own if parts > 1 and own else out


def merge_units(units: list[Unit], new: Sequence[Unit]) -> None:
    """Add the units of another part: one inside a unit already shown adds nothing; one that holds a unit
    already shown takes its place (the part before showed less of the same text)."""
    for u in new:
        same = [i for i, v in enumerate(units) if v.doc_id == u.doc_id and v.start < u.end and u.start < v.end]
        if any(units[i].start <= u.start and u.end <= units[i].end for i in same):
            continue
        held = [i for i in same if u.start <= units[i].start and units[i].end <= u.end]
        if held:
            units[held[0]] = u
            for i in reversed(held[1:]):
                del units[i]
        else:
            units.append(u)


def extract(question: Question, sources: Sequence[Source], texts: dict[str, str], weights: Weights,
            bigrams: set[str], limits: Thresholds | None = None, observe: Observer | None = None) -> Extraction:
    """The answer units for every part of the question, or the reason there are none. `observe`, if given,
    sees the sentences each part chose among (`eval/fit_sentence_weights.py` fits `SENTENCE_WEIGHTS` on them)."""
    lim = dataclasses.replace(limits or Thresholds(), observe=observe)
    named = [_sq(p) for p in question.persons]  # a person named is a constraint (`fits`), not the subject
    weights = [(t, w) for t, w in weights if not any(t in p or p in t for p in named) and t not in _TITLES]
    weights = matchable(weights, [texts.get(d, "") for d in dict.fromkeys(s.doc_id for s in sources)])
    units: list[Unit] = []
    unanswered: list[int] = []
    reasons: list[str] = []
    for i, part in enumerate(question.parts):
        own = part_weights(weights, part, len(question.parts))
        # what only this part asks about ("城镇新增就业和粮食产量的目标各是多少": 粮食产量, not 目标)
        distinct = [(t, w) for t, w in own if not any(t in _sq(o.text) for o in question.parts if o is not part)]
        if units and part.kind in NEEDS_EVIDENCE and any(_evidence(part.kind, u.text) >= 1.0 and share(distinct, u.text) >= lim.about
                                                         for u in units):
            continue  # "提出了哪些要求？由谁负责？": the items shown already say who
        memo: Memo = {}
        got = _answer_part(question, part, i, sources, texts, own, bigrams, lim, memo)
        top = [s for s in sources if s.n <= lim.top_n]
        loose = dataclasses.replace(lim, about=lim.top_about, about_list=min(lim.about_list, lim.top_about),
                                    loose=True)
        paraphrase = False
        if not got and lim.top_about < lim.about:
            # a paraphrase shares few words with its answer: in the passages retrieval ranked first, less will do
            got = _answer_part(question, part, i, top, texts, own, bigrams, loose, memo)
            paraphrase = bool(got)
        elif got and lim.strong_first and part.kind in NEEDS_EVIDENCE - SOFT_EVIDENCE and lim.top_about < lim.about and not any(
                _evidence(part.kind, u.text, *_asked(part)) >= 1.0 for u in got):
            # only a weak answer (a year for "哪天"): a clear one in the first-ranked passages, about less, wins
            got = _answer_part(question, part, i, top, texts, own, bigrams, dataclasses.replace(loose, strong=True), memo) or got
        if (not got or paraphrase) and lim.whole_first:
            # the answer may sit in the first-ranked document outside its cited passages: read all of it (the
            # first-ranked about the place the question names: "山东省…" is not the national report); what is
            # about the subject there beats a paraphrase in the passages
            first = next((s for s in sources if _about_place(question, s, texts.get(s.doc_id, ""))), None)
            whole = [dataclasses.replace(first, start=0, end=len(texts.get(first.doc_id, "")))] if first else []
            got = _answer_part(question, part, i, whole, texts, own, bigrams, lim, memo) or got
        if got:
            merge_units(units, got)
        else:
            unanswered.append(i)
            tmpl = REASONS.get(part.kind)
            if tmpl and share(weights, *(texts.get(s.doc_id, "")[s.start : s.end] for s in sources)) >= lim.about:
                reasons.append(tmpl.format(subject=_subject_label(own)))
    if not units:
        others = [p for p in question.persons if p not in question.speakers and not any(
            _sq(p) in _sq(f"{s.speaker}{_head(s, texts.get(s.doc_id, ''))}") for s in sources)]
        if others:  # "张德江在1997年政府工作报告里提出了什么": no source is theirs
            reasons.insert(0, PERSON_REASON.format(who="、".join(others)))
        if question.months and not any(_in_month(question.months, s.date, texts.get(s.doc_id, "")[s.start : s.end])
                                       for s in sources):
            when = "、".join(f"{y}年{m}月" for y, m in question.months)
            reasons.insert(0, MONTH_REASON.format(when=when))
        if question.speakers:  # "胡春华发言讲了什么": what was looked for is their words
            reasons.insert(0, SPEECH_REASON.format(who="、".join(question.speakers)))
        if question.owner and not any(owned_by(_sq(question.owner), _sq(_head(s, texts.get(s.doc_id, ""))))
                                      for s in sources):
            reasons.insert(0, OWNER_REASON.format(owner=question.owner))
        return Extraction([], "", reasons[0] if reasons else "", unanswered)
    note = ""
    if unanswered and len(question.parts) > 1:
        missing = "；".join(question.parts[i].text for i in unanswered)
        note = f"\n（资料中没有找到“{missing}”的答案。）"
    return Extraction(units, note, "", unanswered)


def _head(src: Source, text: str) -> str:
    """A source's title block: its title, its meeting and the document's first characters."""
    return f"{src.title} {src.meeting} {text[:HEADER_CHARS]}"


def _about_place(question: Question, src: Source, text: str) -> bool:
    """Is the document about the places the question names (its title block names them)?"""
    head = _sq(_head(src, text))
    return all(_sq(p) in head for p in question.places)


def _own_body(event: str, hay: str, head: str) -> bool:
    """A local document names its own level's bodies without the level: a district's speech says
    "政府常务会议" for "区政府常务会议" (the level, 区, is in its title block)."""
    return len(event) > 3 and event[0] in "省市区县镇乡" and event[0] in head and event[1:] in hay


_CN_MONTHS = ("一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二")


def _in_month(months: Sequence[tuple[int, int]], date: str, said: str) -> bool:
    """A document dated in another month is about a month the question names only if the text shown says
    that month ("3月", "三月"); a document whose date has no month is not ruled out."""
    m = re.match(r"(\d{4})-(\d{1,2})", date)
    if not m or (int(m.group(1)), int(m.group(2))) in months:
        return True
    names = [f"{mo}月" for _, mo in months] + [f"{_CN_MONTHS[mo - 1]}月" for _, mo in months]
    return any(re.search(rf"(?<![0-9一二三四五六七八九十]){n}", said) for n in names)


def unnamed(question: Question, src: Source, person: str) -> bool:
    """Whose words a source is cannot be told: it records no speaker and is the report the question names by
    its year or its session ("2018年政府工作报告", "十五大报告"). The government work reports and congress
    reports here name nobody as their speaker, yet "李克强在2018年政府工作报告中…" and "江泽民在十五大报告中…"
    are asked of them; a person then can be neither confirmed nor ruled out."""
    if src.speaker:
        return False
    if question.doc_years:
        return src.year in question.doc_years
    head = f"{src.title} {src.meeting}"
    reports = [sp for sp in question.named
               if re.search(re.escape(sp.label) + r"(?:的|上的|所作的)?(?:政治|工作)?报告", question.text)]
    return bool(reports) and all(satisfies(sp, "", head, None) for sp in reports)


_SPOKE = r"[^。；]{0,24}?(?:指出|强调|表示|说|(?<!的)讲话|要求|提出|认为|宣布|(?<!的)致辞)"  # not "…上的讲话精神"


def fits(question: Question, src: Source, text: str, units: Sequence[Unit]) -> bool:
    """Does an answer from this source satisfy what the question pins down? A year it names must be the
    document's year or be written in the answer (or the heading it sits under); a kind of document named
    with its year ("2018年政府工作报告") must be the source's kind, and a national one not a province's; a
    meeting or forum it names must be named by the source's title block, the cited passage or the answer; a
    place whose own report it names must be named by the title block; a person it names must be the
    document's speaker or be in its title block or in the answer."""
    shown = "".join(u.text for u in units)
    if question.doc_years and src.year not in question.doc_years:
        return False
    title = _sq(src.title)
    if question.doc_kinds and not any(k in title for k in question.doc_kinds):
        return False  # "2018年政府工作报告…": not a speech of 2018
    where = _sq(f"{src.title}{src.meeting}")  # "2026年政府工作报告" of 云南省第十四届人民代表大会…
    if question.national and not re.search("国务院|全国", where) and any(p in where for p in PROVINCES):
        return False  # "国务院政府工作报告", "全国…": not a province's report
    head = _head(src, text)  # the title block names the meeting
    if question.owner and not owned_by(_sq(question.owner), _sq(head)):
        return False  # "浦东新区2026年区政府工作报告": not Shanghai's report, though it names 浦东新区
    if question.events:  # "中央经济工作会议": the source, the cited passage or the answer names that event
        hay = _sq(f"{head}{text[src.start : src.end]}{shown}")
        if not all(_sq(e) in hay or _abbreviates(_sq(e), hay) or _own_body(_sq(e), hay, _sq(head))
                   or titled_by(_sq(e), _sq(f"{src.title}{src.meeting}")) for e in question.events):
            return False
    if question.named and not all(satisfies(sp, shown, head, src.year) for sp in question.named):
        return False  # "十六大报告…": an answer from the 十七大 report does not do
    if question.years and src.year not in question.years:
        context = shown + "".join(_heading_before(text, u.start) for u in units)
        if not set(question.years) & set(years_in(context)):  # 2020, 二〇二〇年
            return False
    if question.months and not _in_month(question.months, src.date, shown + text[src.start : src.end]):
        return False  # "2017年3月…到上海团": not a report of October's visit
    owner = f"{src.speaker}{src.title}"
    if not all(p in owner or p in shown or p in head or unnamed(question, src, p) for p in question.persons):
        return False  # the head: "听取了周恩来总理…所作的"
    if not all(p in owner or re.search(re.escape(p) + _SPOKE, shown) or unnamed(question, src, p)
               for p in question.speakers):
        return False  # "王沪宁作的总结讲话讲了什么": his speech, or a text reporting what he said
    # a place the question names: the answer's document is about it (its title or head), or the answer says it
    return all(_sq(p) in _sq(f"{head}{shown}") for p in question.places)


Memo = dict[tuple[str, int, int, int], list[Candidate]]


def _answer_part(question: Question, part: Part, index: int, sources: Sequence[Source], texts: dict[str, str],
                 weights: Weights, bigrams: set[str], lim: Thresholds, memo: Memo | None = None) -> list[Unit]:
    """The units that answer one part from the sources, or none. `memo`: the candidates already gathered for
    this part from a source (the passes over the same passages with other limits read them once)."""
    wants_list = part.kind in ("list", "decision") or question.item is not None
    by_n = {s.n: s for s in sources}
    memo = {} if memo is None else memo

    def gathered(what: str, s: Source, make: Callable[[], list[Candidate]]) -> list[Candidate]:
        key = (what, s.n, s.start, s.end)
        if key not in memo:
            memo[key] = make()
        return memo[key]

    def ok(c: Candidate) -> bool:
        src = by_n[c.units[0].n]
        return fits(question, src, texts.get(src.doc_id, ""), c.units)

    best_list: Candidate | None = None
    if wants_list:
        lists = [c for s in sources for c in gathered("list", s, lambda s=s: list_candidates(
            texts.get(s.doc_id, ""), s, weights, index, part.kind, question.item, bigrams))]
        lists = [c for c in lists if c.subject >= lim.about_list and c.units and ok(c)]
        if lists:
            best_list = max(lists, key=lambda c: c.score)
            if question.item is not None:
                return best_list.units
    sents = [c for s in sources for c in gathered("sentence", s, lambda s=s: sentence_candidates(
        texts.get(s.doc_id, ""), s, weights, part, index, bigrams))]
    if part.kind in NEEDS_EVIDENCE:
        unit, implied = _asked(part)
        ev = [c.evidence for c in sents]
        floor = 1.0 if any(e >= 1.0 and c.subject >= lim.about for e, c in zip(ev, sents, strict=True)) else 1e-9
        if part.kind == "number" and (unit or implied in _MEASURED or _ASKS_RATIO.search(part.text)) and lim.strict_unit:
            floor = 1.0  # "多少条", "总投资多少", "占多大比例": only a figure in that unit answers ("十二亿" may count people)
        if lim.strong:
            floor = 1.0
        if part.kind in SOFT_EVIDENCE and floor < 1.0:
            floor = 0.0  # a reason is often stated without 因为/为了: the sentences about the subject do
        sents = [c for c, e in zip(sents, ev, strict=True) if e >= floor]
    sents = [c for c in sents if c.subject >= lim.about and ok(c)]
    if part.kind == "number" and _ASKS_GOAL.search(part.text):
        sents = [c for c in sents if _TARGET.search(c.units[0].text)]  # a target, not last year's result
    if part.kind == "number" and lim.loose:  # the looser pass: the figure's own clause names what it counts
        sents = [c for c in sents if _figure_named(c.units[0].text, weights)]
    if part.kind == "list":  # no list found: a sentence that lists things inline ("A、B和C") still answers
        sents = [c for c in sents if inline_list(c.units[0].text) or question.item is not None]
    margin = 0.1 if part.kind == "decision" else lim.list_margin
    if best_list is not None and (not sents or best_list.lead_subject >= max(c.subject for c in sents) - margin):
        return best_list.units  # a list introduced as about the subject; else the sentence that says it
    if not sents:
        return []
    if lim.observe is not None:
        lim.observe(part, sents)
    sents.sort(key=lambda c: -c.score)
    best = sents[0].score
    chosen = [sents[0]]
    keep = 0.92 if part.kind in NEEDS_EVIDENCE else 0.85
    for c in sents[1 : lim.max_sentences * 6]:
        if len(chosen) >= lim.max_sentences or c.score < keep * best:
            break
        u = c.units[0]
        if any(u.doc_id == o.units[0].doc_id and u.start < o.units[0].end and u.end > o.units[0].start
               for o in chosen):
            continue
        if _sq(u.text) in {_sq(o.units[0].text) for o in chosen}:
            continue
        chosen.append(c)
    chosen.sort(key=lambda c: (c.units[0].n, c.units[0].start))
    return [c.units[0] for c in chosen]
