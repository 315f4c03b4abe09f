"""What a question asks for: the kind of answer, the parts of a compound question, an item it points at,
and the places it names.

Staff ask "整治多少条？由哪个部门牵头？" (two parts: a figure, then a body), "那第二项是什么？" (one item
of a list), "会议决定怎么办？" (the decisions). The answer layer extracts a unit of the asked kind about
the question's subject, and refuses when the archive holds none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

import rjieba

from bot.refusal import Specific, specifics
from core.zh import PROVINCES, cn_number, normalize

Kind = Literal["list", "decision", "who", "number", "date", "where", "why", "yesno", "fact"]
KINDS: tuple[Kind, ...] = ("list", "decision", "who", "number", "date", "where", "why", "yesno", "fact")

# The first pattern that matches a part decides its kind: the narrower asks come first.
_KIND_PATTERNS: list[tuple[Kind, re.Pattern[str]]] = [
    ("who", re.compile(
        r"谁|哪位|哪名|哪个(?:部门|单位|机构|处室|科室|领导|同志|组织)|哪些(?:部门|单位|机构|领导|人)|由哪|"
        r"什么(?:部门|单位|机构|人)|牵头|负责人|主持人|谁主持|由.{0,6}负责|谁作的|作报告的是|讲话的是")),
    ("date", re.compile(
        r"什么时候|何时|哪天|哪一天|几月几[日号]|几月|哪年|哪一年|什么时间|时限|期限|截止|"
        r"之前完成|哪个月|几号|哪个时间|日期|哪几天|哪几日|哪两天|哪几年|哪一年")),
    ("where", re.compile(r"哪里|在哪(?:里|儿|个|座|些地)|何地|哪(?:个|[两几三四五]个|些)(?:城市|地方(?!政府)|地区|省|县|国家)"
                         r"|什么地方|地点|哪座")),
    ("why", re.compile(r"为什么|为何|原因|目的是|目的何在|什么目的|为了什么|何以|出于什么|意义")),
    ("number", re.compile(
        r"多少|(?<!哪)几(?:个|项|条|家|所|次|年|倍|名|人|处|座|万|亿|千|百|辆|吨|公里|米|户|件|批|天|届|成|位|类)|"
        r"多大|多高|多长|多久|多长时间|百分之几|目标是多少")),
    ("list", re.compile(
        r"哪些|哪几|有什么|包括什么|包括哪|主要(?:内容|任务|措施|有)|分别是|列举|几个方面|哪(?:几)?个方面|"
        r"几点|都有|有哪|几大|哪[0-9０-９一二三四五六七八九十]+(?:项|个|条|点|方面|件)|分别|"
        r"[“\"][一二三四五六七八九十两][^”\"]{1,8}[”\"].{0,16}?(?:什么|哪)")),  # "“三保三压”，具体保什么
    ("decision", re.compile(
        r"决定|议定|怎么办|怎么(?:做|处理|解决|管|整治|推进)|如何(?:处理|解决|整治|做|推进|落实|管理)|"
        r"采取(?:了)?(?:什么|哪)|什么(?:措施|办法|举措|要求|安排|部署|政策)|提出(?:了)?什么|要求|部署|"
        r"安排|工作重点|重点是|定了什么|怎样")),
    ("yesno", re.compile(r"是否|是不是|有没有|能否|可否|吗[？?]?$")),
]
_PART_SPLIT = re.compile(r"[？?；;]+|[，,](?=(?:由|是)?(?:谁|哪个|哪些|哪位|什么时候|何时|多少|几)[^，,]{0,12}[？?]?$)")
_ITEM = re.compile(r"第([一二三四五六七八九十两\d]{1,3})(?:项|条|点|件|方面|部分)")
# A named place: two or more characters before an administrative suffix; "全市", "本区", "各县" are not names.
# A named place: a two- or three-character name right after a boundary (the start, punctuation, a digit, or
# one of 年的在是于和与及对从到去来) and before 省/市/县/区; not "全市", "本区", "国家级试验区", "东推进大湾区".
_PLACE = re.compile(
    r"(?:^|(?<=[^\u4e00-\u9fff])|(?<=[年的在是于和与及对从到去来]))([\u4e00-\u9fff]{2,3}?)(省|市|自治区|县|区)"
    r"(?![\u4e00-\u9fff]{0,1}(?:长|委|局|政府|级|场|域|间|别|委会|民))"
)
# kinds of area, not names ("农牧区劳动力", "贫困山区"); "中山区", "金山区" are names
_AREAS = frozenset(["农牧区", "牧区", "林区", "矿区", "灾区", "山区", "库区", "郊区", "老区", "边区", "特区", "农区",
                    "垦区", "湖区", "藏区", "战区", "城区", "社区", "园区", "景区", "片区", "校区", "营区", "辖区"])
_NOT_NAME_START = "年月日的在和与及对把将从向于是为了给让由被"  # "2025年临江区" names 临江区
_NOT_PLACE = re.compile(r"^(?:全|本|我|该|各|城|市|区|县|省|两|三|一|这|那|哪|社|园|小|新|老|地|辖|景|市场|城)")


@dataclass
class Part:
    text: str
    kind: Kind


@dataclass
class Question:
    text: str
    parts: list[Part]
    item: int | None = None  # "第二项" -> 2: the question points at one item of a list
    places: list[str] = field(default_factory=list)
    persons: list[str] = field(default_factory=list)  # people named with their title ("罗振宇副区长")
    years: list[int] = field(default_factory=list)  # years written in the question (set by the caller)
    doc_years: list[int] = field(default_factory=list)  # years of a document it names: "2024年政府工作报告"
    named: list[Specific] = field(default_factory=list)  # sessions and congresses it names ("十六大", "第五次")
    doc_kinds: list[str] = field(default_factory=list)  # the kind of document it names with a year (政府工作报告)
    national: bool = False  # it names the State Council's or a nationwide document (see `national`)
    events: list[str] = field(default_factory=list)  # meetings and forums it names ("中央经济工作会议")
    speakers: list[str] = field(default_factory=list)  # people named as giving a speech ("王沪宁作的总结讲话")
    owner: str = ""  # the place whose own report it names ("浦东新区2026年区政府工作报告" -> 浦东新区)
    months: list[tuple[int, int]] = field(default_factory=list)  # "2017年3月" -> (2017, 3)

    @property
    def kinds(self) -> list[Kind]:
        return [p.kind for p in self.parts]


def kind_of(text: str) -> Kind:
    """The kind of the last ask in the text ("几个最迫切的问题拟定了哪些文件" asks for the files); of two
    asks at the same place, the narrower (earlier in `_KIND_PATTERNS`)."""
    best: tuple[int, int, Kind] | None = None
    for rank, (kind, pattern) in enumerate(_KIND_PATTERNS):
        for m in pattern.finditer(text):
            key = (m.start(), -rank, kind)
            if best is None or key[:2] > best[:2]:
                best = key
    return best[2] if best else "fact"


def split_parts(question: str) -> list[str]:
    """The questions inside one: "整治多少条？由哪个部门牵头？" -> ["整治多少条", "由哪个部门牵头"]; "A和B各是
    多少" asks each of A and B (`each`)."""
    pieces = [p.strip(" ，,。") for p in _PART_SPLIT.split(question)]
    return [q for p in pieces if len(p) >= 2 for q in each(p)] or [question]


_EACH = re.compile(r"(各|分别)(?=[是为定达有要安控增提占]|多少|几)")
_EACH_BOUNDARY = "年，,：:里中上对把"  # what comes before the first of the things asked ("2026年城镇新增就业和…")


def each(piece: str) -> list[str]:
    """A question asking how much each of two things is, one question per thing: "湖北2026年城镇新增就业和粮食
    产量的预期目标各是多少" -> "湖北2026年城镇新增就业的预期目标是多少", "湖北2026年粮食产量的预期目标是多少"."""
    m = _EACH.search(piece)
    joint = max((piece.rfind(c, 0, m.start()) for c in "和与及"), default=-1) if m else -1
    if not m or joint <= 0 or kind_of(piece) != "number":
        return [piece]
    tail_at = next((i for i in range(joint + 1, m.start()) if piece[i] == "的"), m.start())
    start = max(piece.rfind(c, 0, joint) for c in _EACH_BOUNDARY) + 1
    first, second = piece[start:joint], piece[joint + 1 : tail_at]
    if not (2 <= len(first) <= 12 and 2 <= len(second) <= 12):
        return [piece]
    head, tail = piece[:start], piece[tail_at : m.start()] + piece[m.end() :]
    return [head + first + tail, head + second + tail]


def places_in(question: str) -> list[str]:
    """Places the question names: provinces by name, and "X省/X市/X区/X县…" with a real name before the
    suffix."""
    text = normalize(question)
    found = [p for p in PROVINCES if p in text]
    for m in _PLACE.finditer(text):
        name = m.group(1).lstrip(_NOT_NAME_START)
        if (len(name) < 2 or _NOT_PLACE.match(name) or re.search(r"[各全本该每对和与及的了要哪几有]|多少|什么", name)
                or name[-1] in "社园小景辖城地片校营禁"
                or name + m.group(2) in _AREAS
                or len(name) == 3 and (name[1:] + m.group(2) in _AREAS or name[2:] + m.group(2) in _AREAS)
                or any(name in f or f in name for f in found)):
            continue
        found.append(name + m.group(2))
    return found


_TITLE = "总书记|总理|副总理|主席|书记|省长|市长|区长|县长|局长|厅长|处长|科长|主任|部长|同志"
# the commonest surnames: a name before or after a title starts with one ("个别中央委员" names nobody)
_SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤习温胡"
    "栗岳施骆聂葛柯殷祝俞倪鲁齐阎"
)
_PERSON_BEFORE = re.compile(rf"([\u4e00-\u9fff]{{2,3}}?)(?:副)?(?:{_TITLE})")
_PERSON_AFTER = re.compile(rf"(?:副)?(?:{_TITLE})([\u4e00-\u9fff]{{2,3}})(?=[在的说讲指提强主召要，,。？?]|$)")
_NOT_NAME = re.compile(r"[局委办市区县省部厅院会长副党政府全各本该总在的了和与及对是把将个位名上下讲话里时后前说指要们这那]")


# a speech of the person named just before: "胡春华发言", "蔡奇重点发言", "邓小平致闭幕词", "崔世安的离任致辞",
# "胡耀邦在纪念…大会上的讲话"
_OWN_SPEECH = (r"(?:重点|书面|大会|总结)?发言|致(?:开幕词|闭幕词|辞|词)|的[\u4e00-\u9fff]{0,4}?(?:讲话|致辞|发言|演讲)"
               r"|在[^，,。？?]{1,24}?(?:上|时)的(?:讲话|致辞|发言|演讲|报告)")
# a name before what a person does in a meeting: "叶剑英作的报告", "王沪宁主持"
_PERSON_ACTS = re.compile(r"(?:^|(?<=[^\u4e00-\u9fff])|(?<=[上由是和与及的]))([\u4e00-\u9fff]{2,3}?)"
                          rf"(?=作的|作了|所作|主持|发表|同志|提出|强调|指出|表示|说|{_OWN_SPEECH})")


# where a personal name (as the segmenter tags it) is the one who acts: before what they did or said
# ("张德江在…报告里提出", "李鹏为什么说", "王清宪代表…作") or after whose account it is ("据韩正介绍",
# "按照赵乐际的说法"); not a name in what is said about someone ("批判刘少奇散布的")
_AGENT_AFTER = re.compile(r"在|说|谈|讲|曾|认为|要求|为什么|为何|怎么|怎样|如何|当时|关于|表示|称|代表|提到|谈到|讲到"
                          r"|的说法|所说|所讲|所提|介绍|看来|会见|考察|视察|出席|参加|到会")
_ACCOUNT = r"(?:据|按照?|根据|依照)"  # whose account it is: "据韩正介绍", "按照赵乐际的说法"
_AGENT_BEFORE = re.compile(rf"(?:{_ACCOUNT}|听)$")

# what a person does, written as words of their own ("谈" and "讲" sit in 座谈, 讲话)
_ACTS_AFTER = re.compile(r"在|参加|出席|到会|会见|考察|视察|主持|说|介绍|为什么|为何|表示|认为|提到|谈到|讲到")
_TITLE_END = re.compile(rf"(?:{_TITLE}|委员|委员长|常委|国务委员)$")
# a place, not a person, is where one goes or what follows a region: "在重庆石柱考察", "到石柱"
_PLACE_BEFORE = re.compile(rf"(?:[在到赴去往于至]|{'|'.join(PROVINCES)}|[省市县区])$")


def persons_in(question: str) -> list[str]:
    """People the question names next to a title or before what they did or said: "罗振宇副区长" / "区长林书航"
    / "叶剑英作的报告" / "，刘鹤提出的" -> 罗振宇 / 林书航 / 叶剑英 / 刘鹤; and a personal name where it is the one
    acting or speaking: "张德江在…提出" / "据韩正介绍" / "8日汪洋参加" / "主席布小林在" -> 张德江 / 韩正 / 汪洋 / 布小林."""
    found: list[str] = []
    for pattern in (_PERSON_BEFORE, _PERSON_AFTER, _PERSON_ACTS):
        for m in pattern.finditer(question):
            name = m.group(1)
            known = name[0] in _SURNAMES or pattern is not _PERSON_ACTS and _rare_surname(name)
            if known and not _NOT_NAME.search(name) and name not in found:
                found.append(name)
    at = 0
    for word, tag in rjieba.tag(question):  # a name the segmenter tags
        start, at = at, at + len(word)
        if (tag.startswith("nr") and 2 <= len(word) <= 3 and word[0] in _SURNAMES and word not in found
                and not _PLACE_BEFORE.search(question[:start])
                and (_AGENT_AFTER.match(question, at) or _AGENT_BEFORE.search(question[:start]))):
            found.append(word)
    for m in _ACTS_AFTER.finditer(question):  # a name the segmenter cuts ("韩/正在", "栗/战书")
        name = _name_before(question, m.start())
        if name and name not in found and not any(name in f or f in name for f in found):
            found.append(name)
    return found


def _rare_surname(name: str) -> bool:
    """Beside a title, a name of a rarer surname ("易炼红省长"): no word the segmenter knows, and it begins with
    what it tags as a name ("易炼", "布"), not with a word ("共中央": 共)."""
    tags = rjieba.tag(name)
    return not rjieba.has_word(name) and bool(tags) and tags[0][1].startswith("nr")


def _name_before(question: str, end: int) -> str:
    """The two or three characters before `end` when they read as a name: after a boundary (the start, a
    mark, a date, "的") and starting with a common surname, or after a title ("主席布小林"); not a word the
    segmenter knows as anything but a name ("黄河", "高铁"), nor a place where one goes."""
    for size in (3, 2):
        start = end - size
        if start < 0:
            continue
        name, before = question[start:end], question[:start]
        titled = bool(_TITLE_END.search(before))
        boundary = not before or not "\u4e00" <= before[-1] <= "\u9fff" or before[-1] in "日月年上由是和与及的据照"
        if not (titled or boundary and name[0] in _SURNAMES) or _NOT_NAME.search(name):
            continue
        if _PLACE_BEFORE.search(before) and not titled:
            continue
        tags = rjieba.tag(name)
        if rjieba.has_word(name) and not (len(tags) == 1 and tags[0][1].startswith("nr")):
            continue
        return name
    return ""


_GAVE_SPEECH = r"(?:作的|所作的?|发表的?|作了)[^，,。？?]{0,12}?(?:讲话|报告|演讲|致辞|发言)"  # after the name


_SAID = r"说|谈|讲|认为|表示|称|提到|谈到|讲到|的说法|所说|所讲|介绍|看来|(?:为什么|为何|怎么|如何)(?:说|看)"


def speakers_in(question: str, persons: list[str]) -> list[str]:
    """The people a question names as giving a speech ("王沪宁作的总结讲话讲了什么", "胡春华发言讲了什么") or
    as saying what it asks about ("李鹏为什么说…", "据韩正介绍"): what it asks is what they said, not what a
    text says about them."""
    return [p for p in persons if re.search(re.escape(p) + f"(?:{_GAVE_SPEECH}|{_OWN_SPEECH}|{_SAID})", question)
            or re.search(_ACCOUNT + re.escape(p), question)]


_DOC_YEAR = re.compile(r"((?:19|20)\d{2})年(?:的|度)?(?:[\u4e00-\u9fff]{0,8}?)(政府工作报告|工作报告|预算报告|计划报告|决议)")


_MONTH = re.compile(r"((?:19|20)\d{2})年(1[0-2]|0?[1-9])月")


def months_in(question: str) -> list[tuple[int, int]]:
    """The months a question names with their year: "2017年3月习近平到上海团…" -> [(2017, 3)]."""
    return list(dict.fromkeys((int(y), int(m)) for y, m in _MONTH.findall(question)))


def document_years(question: str) -> list[int]:
    """Years that name a document rather than a time: "2024年政府工作报告" is the report of 2024 (its review
    of 2023 does not answer it), "2024年的GDP" is not a document."""
    return sorted({int(m.group(1)) for m in _DOC_YEAR.finditer(normalize(question))})


def document_kinds(question: str) -> list[str]:
    """The kind of document a question names with its year ("2018年政府工作报告" -> 政府工作报告): an answer
    from a speech of that year does not do."""
    return sorted({m.group(2) for m in _DOC_YEAR.finditer(normalize(question))})


_OWNER = re.compile(
    r"(?:^|(?<=[^\u4e00-\u9fff])|(?<=[的在和与及对从据看]))(?:请问|那份|那个|这份)?"
    r"((?:(?![在的长和与及对从据看是说了])[\u4e00-\u9fff]){2,10}?(?:省|市|自治区|自治州|新区|合作区|开发区|区|县|州|盟|旗))"
    r"(?:管委会|执委会|人民政府|政府)?"
    r"(?:19|20)[0-9]{2}年(?:的|度)?[省市区县]?(?:人民政府|政府)?(?:政府工作报告|工作报告)"
)
_ADMIN_SUFFIX = re.compile(r"(?:省|市|自治区|自治州|区|县|州|盟|旗)$")


def document_owner(question: str) -> str:
    """The place whose own report the question names, written before the report's year ("浦东新区2026年区政府
    工作报告", "雄安新区管委会2026年工作报告" -> 浦东新区, 雄安新区): a report of the province or city around it
    does not answer it. "" when none."""
    m = _OWNER.search(normalize(question))
    return m.group(1) if m else ""


def owned_by(owner: str, head: str) -> bool:
    """Is a document (its squashed title block `head`) the report of `owner`: named with or without its
    suffix ("河北省" / "河北")?"""
    short = _ADMIN_SUFFIX.sub("", owner)
    return owner in head or (len(short) >= 2 and short in head)


_EVENT_RUN = re.compile(r"[\u4e00-\u9fff0-9]+")
_EVENT_END = re.compile(r"(?:座谈会|峰会|博览会|年会|论坛|大会|全会|会议|[博运园贸交奥]会)")  # 进博会, 亚冬会, 世园会
_EVENT_CUT = re.compile(r".*(?:[的在是把从向于给让被并了到]|召开|举行|出席|参加|主持)")
_NOT_EVENT = re.compile(r"^(?:本|这|那|该|此|各|每|历次|上次|下次|有关|相关)|[届次哪几何]|什么|^[0-9]*$")


def events_in(question: str) -> list[str]:
    """Meetings, forums and congresses the question names ("2018年底召开的中央经济工作会议" -> 中央经济工作
    会议, "博鳌亚洲论坛年会"): an answer from a document about another event does not do. Not "这次会议"
    or "哪场国际峰会" (the event is what is asked), and not sessions by number ("十四届二次会议":
    `bot.refusal.specifics` checks those)."""
    found: list[str] = []
    for run in _EVENT_RUN.findall(normalize(question)):
        ends = list(_EVENT_END.finditer(run))
        if not ends:
            continue
        last = ends[-1]  # the widest event the run names ("博鳌亚洲论坛年会", not "博鳌亚洲论坛")
        head = _EVENT_CUT.sub("", run[: last.start()])
        name = re.sub(r"^[0-9]{4}年(?:底|初|末)?", "", head + last.group(0))
        if len(name) >= 4 and not _NOT_EVENT.search(name) and name not in found:
            found.append(name)
    return found


def titled_by(event: str, title: str) -> bool:
    """Does a (squashed) title name the event by its name and its kind, apart: "黄河座谈会" is "在黄河流域生态
    保护和高质量发展座谈会上的讲话"."""
    m = _EVENT_END.search(event)
    if not m or m.end() != len(event) or m.start() < 2:
        return False
    name = event[: m.start()]
    at = title.find(name)
    return at != -1 and m.group(0) in title[at + len(name) :]


_STATE_COUNCIL_DOC = re.compile(r"国务院[^，,。？?]{0,8}?报告")  # its report; not "要国务院立刻派调查组"


def national(question: str) -> bool:
    """Does the question name the State Council's or a nationwide document ("国务院政府工作报告", "全国经济
    增长预期目标" with a report's year) and no province? Then a province's report does not answer it."""
    q = normalize(question)
    return not places_in(q) and (bool(_STATE_COUNCIL_DOC.search(q)) or ("全国" in q and bool(_DOC_YEAR.search(q))))



_TAIL = re.compile(r"是什么|是啥|什么|怎么样|如何|是|呢|吗|呀|的|了|请问|那|还|又|都|分别|具体|有哪些|哪些|[^\u4e00-\u9fff]")


def analyse_question(question: str, years: list[int] | None = None) -> Question:
    parts: list[Part] = []
    for piece in split_parts(question):
        kind = kind_of(piece)
        if parts and kind in ("fact", "yesno") and len(piece) <= 6 and len(_TAIL.sub("", piece)) < 2:
            continue  # "是什么", "呢": a tail of the part before ("主题是什么" is a question of its own)
        parts.append(Part(piece, kind))
    if not parts:
        parts = [Part(question, kind_of(question))]
    item = None
    m = _ITEM.search(question)
    if m:
        raw = m.group(1)
        item = int(raw) if raw.isdigit() else cn_number(raw.replace("两", "二"))
    named = [sp for sp in specifics(question) if sp.forms]  # not a plain year: `Question.years`
    persons = persons_in(question)
    return Question(question, parts, item, places_in(question), persons, list(years or []),
                    document_years(question), named, document_kinds(question), national(question), events_in(question),
                    speakers_in(question, persons), document_owner(question), months=months_in(question))
