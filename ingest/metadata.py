"""Title, date, speaker, url and meeting, from format hints and the text before the chrome is stripped."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.dates import ANY_DATE, fold, parse_date, parse_year

HEADER_LINES = 40  # non-blank lines at the top where dates, speakers and occasions are looked for

_OCCASION_DATE = re.compile(rf"^\s*(?:(?:[—–\-―－~〜]{{1,2}}|[(（])\s*({ANY_DATE})|({ANY_DATE})\s*在)")
_LABELLED_DATE = re.compile(rf"(?:发布时间|发表时间|发布日期|更新时间|时间|日期)\s*[:：]\s*({ANY_DATE})")
_BARE_DATETIME = re.compile(rf"^({ANY_DATE})\s*\d{{1,2}}\s*[:时]\s*\d{{1,2}}")

_URL_LABELLED = re.compile(
    r"(?:链接地址|本文链接|原文链接|原文地址|本文地址|文章链接|本文网址)\s*[:：]\s*(https?://[^\s<>\"'，。]+)"
)
_URL_SOURCE = re.compile(r"^(?:来源|出处|原文)\s*[:：]\s*(https?://[^\s<>\"'，。]+)")

_ROLE = (
    r"(?:代?省长|代?市长|区长|县长|州长|旗长|盟长|镇长|乡长|副?主席|副?总理|副?书记|总书记|部长|厅长|局长|"
    r"主任|委员长|秘书长|院长|检察长)"
)
_NAME = r"[\u4e00-\u9fff]{1,4}(?:·[\u4e00-\u9fff]{1,6})*(?: [\u4e00-\u9fff]{1,4})?"
_SPEAKER_LINE = re.compile(rf"(?:^|\s)([\u4e00-\u9fff]{{0,16}}{_ROLE})\s?({_NAME})$")
_CHAIR_LINE = re.compile(r"^[-*•·]?\s*(?:主持人|主持|讲话人|报告人|发言人)\s*[:：]\s*([^，。；,;:：]{2,30})$")
_TITLE_SPEAKER = re.compile(
    r"^([\u4e00-\u9fff]{2,8}?)在.{2,80}?(?:讲话|报告|致辞|发言|演讲|说明|强调|指出|表示|主持|宣布)"
)
_TITLE_NAME_VERB = re.compile(
    r"^([\u4e00-\u9fff]{2,4}?)(?:[：:]|主持|会见|接见|出席|致信|致|对|同|春节|集体会见|考察|视察|看望|签署|发表)"
)
_SPACED_NAME_VERB = re.compile(r"\s([\u4e00-\u9fff]{2,4}?)(?:主持|出席|发表|会见|强调|讲话|作报告)")
_ROLE_NAME_ACTION = re.compile(
    r"(?:总书记|国家主席|主席|总理|省长|市长|区长|县长|书记)([\u4e00-\u9fff]{2,3}?)"
    r"(?:主持|发表|作出|所作|作|在|出席|强调|指出|日前|近日|同|会见|致|向|对|签署|讲话|宣布)"
)
_OFFICE_MEETING_ROLE = re.compile(r"([局处厅部县市区省镇乡校院]长)办公会")
_TITLE_ROLE = re.compile(rf"^({_ROLE})在")
_NOT_NAMES = {"我们", "今年", "去年", "明年", "关于", "全党", "全国", "各位", "同志", "本届", "这次", "会议"}
_NOT_IN_NAMES = ("关于", "通知", "决定", "意见", "办法")

_MEETING_WORDS = (
    r"(?:会议|大会|全会|办公会|座谈会|常务会|常委会|工作会|见面会|讨论会|研讨班|开班式|典礼|仪式|论坛|峰会|"
    r"纪念会|报告会|推进会|部署会|动员会|总结会|培训班|民主生活会)"
)
_MEETING_AT = re.compile(rf"在([^。，；！？：:,;!?\n]{{1,40}}?{_MEETING_WORDS})(?:上|时|期间)")
_MEETING_PLAIN = re.compile(
    r"([^。，；！？：:,;!?\s]{0,24}?(?:局长办公会|办公会议?|常务会议|常委会议|全体会议|工作会议|座谈会|民主生活会))"
)
_MEETING_LEAD = re.compile(r".*(?:召开|出席|接见|主持|参加|举行|落实|贯彻|根据|按照|在|：|:)")
_MEETING_NOT = ("这次", "此次", "本次", "上一次", "下一次", "这个", "那次", "今天的", "我们")
_MEETING_SESSION = re.compile(
    r"(第[一二三四五六七八九十\d]{1,4}届[^。，；！？\n]{2,24}?第[一二三四五六七八九十\d]{1,4}次(?:全体)?会议)"
)
_SHORT_LINE = 120

_TITLE_SUFFIX_END = "。，、；：！？!?,;:"


@dataclass
class Metadata:
    title: str = ""
    date: str = ""
    speaker: str = ""
    url: str = ""
    meeting: str = ""


def header_lines(lines: list[str]) -> list[str]:
    """The first non-blank lines, each cut to 300 characters (metadata sits at line starts)."""
    return [x[:300] for x in lines if x][:HEADER_LINES]


def find_date(header: list[str], hint_date: str = "") -> str:
    """Occasion date ("——2026年2月5日在…会议上") > labelled publish date > date-time line > hint."""
    folded = [fold(x) for x in header]
    for line in folded:
        m = _OCCASION_DATE.match(line)
        if m and len(line) <= 120:
            iso = parse_date(m.group(1) or m.group(2))
            if iso:
                return iso
    for line in folded:
        m = _LABELLED_DATE.search(line)
        if m:
            iso = parse_date(m.group(1))
            if iso:
                return iso
    for line in folded:
        m = _BARE_DATETIME.match(line)
        if m:
            iso = parse_date(m.group(1))
            if iso:
                return iso
    return hint_date


def find_url(lines: list[str]) -> str:
    for line in lines:
        m = _URL_LABELLED.search(line)
        if m:
            return m.group(1)
    for line in lines[:HEADER_LINES]:
        m = _URL_SOURCE.match(fold(line[:2000]))
        if m:
            return m.group(1)
    return ""


def find_speaker(title: str, header: list[str]) -> str:
    for line in header[:25]:
        folded = fold(line)
        if len(folded) > 60:
            continue
        m = _SPEAKER_LINE.search(folded)
        # "省长 王清宪", or "省长王清宪" in a short line: a role followed by a name
        if m and m.group(2).replace(" ", "") not in _NOT_NAMES and (" " in folded or len(folded) <= 12):
            return f"{m.group(1)} {m.group(2)}".strip()
    for line in header[:25]:
        m = _CHAIR_LINE.match(fold(line))
        if m:
            return m.group(1).strip()
    for pattern in (_TITLE_SPEAKER, _TITLE_NAME_VERB):
        m = pattern.match(fold(title))
        if m and m.group(1) not in _NOT_NAMES and not any(w in m.group(1) for w in _NOT_IN_NAMES):
            return m.group(1)
    for text in [title, *header[:5]]:
        m = _ROLE_NAME_ACTION.search(text)
        if m and m.group(1) not in _NOT_NAMES:
            return m.group(1)
    m = _SPACED_NAME_VERB.search(fold(title))
    if m and m.group(1) not in _NOT_NAMES:
        return m.group(1)
    m = _OFFICE_MEETING_ROLE.search(title)
    if m:
        return m.group(1)
    m = _TITLE_ROLE.match(title)
    return m.group(1) if m else ""


def _meeting_name(found: str) -> str:
    """Drop what precedes the meeting's name: "主持召开学校…座谈会" -> "学校…座谈会"."""
    m = _MEETING_LEAD.match(found)
    name = (found[m.end() :] if m else found).lstrip("的")  # "召开的中央经济工作会议"
    return "" if len(name) < 3 or name.startswith(_MEETING_NOT) else name


def find_meeting(title: str, header: list[str]) -> str:
    """ "在…会议上" in the title or a short top line, else "…办公会/座谈会…", else "第X届…第Y次会议"."""
    short = [fold(title)] + [fold(x) for x in header[:20] if len(x) <= _SHORT_LINE]
    for pattern in (_MEETING_AT, _MEETING_PLAIN):
        for text in short:
            for m in pattern.finditer(text):
                name = _meeting_name(m.group(1))
                if name:
                    return name
    for text in [fold(title)] + [fold(x) for x in header[:5]]:
        m = _MEETING_SESSION.search(text)
        if m:
            return m.group(1)
    return ""


def is_title_like(line: str) -> bool:
    """A short line that could be a title: no sentence punctuation at the end, not a photo caption."""
    if not 2 <= len(line) <= 60 or line[-1] in _TITLE_SUFFIX_END or line.endswith("摄"):
        return False
    if line[0] in "，。、；：！？）》”’」』】,.;:!?)|>" or line.startswith(("——", "（", "(")):
        return False
    if re.fullmatch(rf"[\s\d:：\-/.年月日时分秒]*|{ANY_DATE}.*", fold(line)):
        return False
    return bool(re.search(r"[\u4e00-\u9fffA-Za-z]", line))


def find_title(cleaned_lines: list[str], fallback: str) -> str:
    for line in cleaned_lines[:10]:
        if is_title_like(line):
            return line.lstrip("#").strip()
    return fallback


def extract_metadata(
    prepared: list[str],
    cleaned_lines: list[str],
    hints: Metadata,
    fallback_title: str,
) -> Metadata:
    """Combine format hints (html title, csv columns …) with what the text itself says."""
    header = header_lines(cleaned_lines) + header_lines(prepared)  # joined lines first, then raw ones
    title = hints.title or find_title(cleaned_lines, fallback_title)
    date = find_date(header, hints.date) or parse_year(title)
    return Metadata(
        title=title,
        date=date,
        speaker=hints.speaker or find_speaker(title, header),
        url=hints.url or find_url(prepared),
        meeting=hints.meeting or find_meeting(title, header),
    )
