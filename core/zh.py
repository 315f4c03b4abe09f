"""Chinese text rules shared by every stage: one home, so ingest, retrieval, refusal and checking agree.

- normalisation for matching (never for display): NFKC, traditional to simplified, entities, digit spacing;
- one numeral parser (`cn_number`) and the numeral characters;
- years a text names (`years_in`) and numeral-safe containment (`holds`);
- party congresses named in short form (`congresses`: 十七大, not 三大攻坚战);
- sessions of the National People's Congress and the years they met (`npc_sessions`: 三届人大一次会议 -> 1964);
- one set of sentence ends and one sentence splitter (`SENTENCE_ENDS`, `sentence_spans`, `sentences`).
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

_DIGIT_SPACE = re.compile(r"(?<=[0-9０-９.．])[ \u3000\t]+(?=[0-9０-９.．%％])")
_WS = re.compile(r"\s+")


@lru_cache(maxsize=1)
def _t2s():
    from opencc import OpenCC

    return OpenCC("t2s")  # the C++ OpenCC: about 20M characters/s


def to_simplified(text: str) -> str:
    return _t2s().convert(text)


def normalize(text: str) -> str:
    """Text as the keyword index and the matchers see it.

    Entities decoded, NFKC (full-width digits and letters to half-width), traditional to simplified,
    spaces inside numbers removed ("4 0" -> "40"), lower case. Length may change: never use the result
    for offsets into the original text.
    """
    text = html.unescape(text)
    text = unicodedata.normalize("NFKC", text)
    text = _DIGIT_SPACE.sub("", text)
    text = to_simplified(text)
    return text.lower()


# Latin acronyms government texts use beside the Chinese words they stand for (`normalize`d: lower case)
ACRONYMS = {"gdp": ("生产总值",), "cpi": ("居民消费价格",), "ppi": ("工业生产者出厂价格",), "r&d": ("研发", "研究与试验发展")}
# Everyday words for the terms reports write instead (`normalize`d): "物价" is reported as 居民消费价格,
# "经济总量" as 生产总值, "顺序" as 次序 ("按照农轻重的次序")
SYNONYMS = {"经济总量": ("生产总值", "gdp"), "物价": ("居民消费价格", "价格总水平", "cpi"), "增速": ("增长",),
            "顺序": ("次序",), "次序": ("顺序",)}


def squash(text: str) -> str:
    """`normalize` with all whitespace removed: for substring checks across line breaks."""
    return _WS.sub("", normalize(text))


# ------------------------------------------------------------------------------------------- numerals
CN_DIGITS = "〇○零一二三四五六七八九两"  # digits as written in Chinese text (○ is common for zero in dates)
CN_NUMERALS = CN_DIGITS + "十百千万亿"  # every character of a Chinese numeral
_DIGIT_VALUE = {c: v for v, c in enumerate("零一二三四五六七八九")} | {"〇": 0, "○": 0, "两": 2}
_DIGIT_VALUE |= {str(v): v for v in range(10)}
_SMALL_UNIT = {"十": 10, "百": 100, "千": 1000}
_BIG_UNIT = (("亿", 10**8), ("万", 10**4))
_ABBREVIATED = {"廿": "二十", "卅": "三十"}
_TO_ASCII = str.maketrans("〇○零一二三四五六七八九", "000123456789")


def ascii_digits(text: str) -> str:
    """Chinese digits written digit by digit as ASCII ("二〇二〇" -> "2020"); other characters unchanged."""
    return text.translate(_TO_ASCII)


def cn_number(text: str) -> int | None:
    """The integer a numeral spells, or None when `text` is not one number.

    - Positional Chinese numerals: 三, 十, 十二, 二十七, 两千, 一百零五, 三百五 (= 350), 一万二 (= 12000),
      一亿三千万, 廿三, 卅; leading 一 optional before 十/百/千 (十二, 百), not before 万/亿.
    - Digit strings read digit by digit: 二〇二〇, 一九九七, 二０二０ and 二0二0 (mixed full-width or ASCII
      digits), 2020. Two Chinese digits without a zero ("三四", "二二") are a range or a typo, not a number:
      None. A lone digit is itself (零 -> 0, 两 -> 2).
    - Arabic digits before 万/亿: 3万 -> 30000. Decimals ("3.5") and anything else: None.
    """
    text = unicodedata.normalize("NFKC", text.strip())
    for short, full in _ABBREVIATED.items():
        text = text.replace(short, full)
    if not text or any(c not in _DIGIT_VALUE and c not in _SMALL_UNIT and c not in "万亿" for c in text):
        return None
    return _number(text)


def _number(text: str) -> int | None:
    for ch, unit in _BIG_UNIT:
        if ch in text:
            head, _, tail = text.rpartition(ch)
            high = _number(head) if head else None  # a bare 万 is a word (万家), not a number
            if not high:
                return None
            low = _below(tail, unit)
            return None if low is None else high * unit + low
    if all(c in _DIGIT_VALUE for c in text):
        return _digit_string(text)
    return _small(text)


def _digit_string(text: str) -> int | None:
    if len(text) == 1:
        return _DIGIT_VALUE[text]
    if "两" in text:
        return None
    zero_or_ascii = any(c in "〇○零" or c.isascii() for c in text)
    if len(text) == 2 and not zero_or_ascii:
        return None  # 三四: three or four
    return int(ascii_digits(text))


def _below(tail: str, unit: int) -> int | None:
    """The part after 万/亿: 一万二 is 12000 (a lone digit counts in tenths of the unit), 一万零五 is 10005."""
    if not tail:
        return 0
    if len(tail) == 1 and tail in _DIGIT_VALUE:
        return _DIGIT_VALUE[tail] * unit // 10
    if tail[0] in "〇○零":
        tail = tail.lstrip("〇○零")
        if not tail:
            return None
    value = _number(tail)
    return value if value is not None and value < unit else None


def _small(text: str) -> int | None:
    """Below 10000, written with 十百千."""
    total, digit, last, after_zero = 0, None, 10**4, False
    for i, c in enumerate(text):
        if c in _SMALL_UNIT:
            unit = _SMALL_UNIT[c]
            if unit >= last or digit == 0:
                return None
            if digit is None:
                if i:
                    return None  # 三百十: not a numeral
                digit = 1
            total, digit, last, after_zero = total + digit * unit, None, unit, False
        else:
            d = _DIGIT_VALUE[c]
            if digit is not None and digit != 0:
                return None  # two digits in a row
            after_zero = digit == 0
            digit = d
    if digit is None:
        return total
    if digit and last >= 100 and not after_zero:
        return total + digit * last // 10  # 三百五 = 350, 两千三 = 2300
    return total + digit


# -------------------------------------------------------------------------------------------- years
_YEAR = re.compile(r"(?<!\d)(19[4-9]\d|20\d\d)(?!\d)")
_CN_YEAR = re.compile(r"([〇○零0-9一二三四五六七八九]{4})年")  # 二〇二〇年, and 二０二０年 once normalised


def years_in(text: str) -> list[int]:
    """Years `text` names, sorted and distinct: Arabic 1940-2099 standing alone (2018, "2018-03-05"), and
    any four digits before 年 written in Chinese or mixed digits (二〇一八年, 二０一八年, 1850年)."""
    norm = normalize(text)
    found = {int(y) for y in _YEAR.findall(norm)}
    found |= {int(ascii_digits(m)) for m in _CN_YEAR.findall(norm)}
    return sorted(found)


def holds(text: str, term: str) -> bool:
    """`term in text`, except that a term starting with a Chinese numeral must not be the tail of a larger
    number: "五大" is not in "十五大", "四届" not in "第十四届"."""
    if not term or term[0] not in CN_NUMERALS:
        return term in text
    i = text.find(term)
    while i != -1:
        if i == 0 or text[i - 1] not in CN_NUMERALS:
            return True
        i = text.find(term, i + 1)
    return False


# ---------------------------------------------------------------------------------- party congresses
# What follows "十七大" when it is the congress: a time word, its documents, or a verb or particle. "三大攻坚战",
# "五大发展理念", "四大发明", "十大民生实事", "三大作风", "一大批" go on with a noun instead.
_CONGRESS_NEXT = (
    r"以来|以后|以前|之后|之前|前后|前夕|期间|上(?!升|市|涨|游|海|述|级|下|网)|时(?!代|期|间|候|刻|光|节|效|尚|空)"
    r"|后(?!勤|劲|备|果|盾|方|人|代|台|续|来)|前(?!提|景|沿|列|进|途|瞻|线|方|端|置)"
    r"|精神|报告|政治报告|路线|党章|会址|代表|主题|文件|决议|决定|决策|部署|要求|各项|召开|胜利|开幕|闭幕"
    r"|提出|确定|确立|作出|做出|作了|作报告|作的|明确|描绘|规划|制定|通过|强调|指出|总结|进一步|围绕|特别|重申"
    r"|首次|开启|标志|展望|定的|定下|选举|修改|关于|所|把|对|在|的|和|与|及|至|到|是|为|将|又|也|就|以|同"
)
_CONGRESS = re.compile(
    rf"(?<![{CN_NUMERALS}第统唯同单万专划])(?:党的)?([一二三四五六七八九十]{{1,3}})大"
    rf"(?=(?:{_CONGRESS_NEXT})|[^\u4e00-\u9fff]|$)"
)


@dataclass(frozen=True)
class Congress:
    """A party congress named by its short form: "党的十七大" -> short "十七大", full "第十七次全国代表大会"."""

    short: str
    full: str
    start: int  # offsets of the match in the text (党的 included when written)
    end: int


def congresses(text: str) -> list[Congress]:
    """Party congresses a text names in short form (十七大, 党的五大), not counted sets that look alike:
    "三大攻坚战", "五大发展理念", "四大发明", "十大民生实事", "一大批" and "十五大"'s tail "五大" are none."""
    out = []
    for m in _CONGRESS.finditer(text):
        n = cn_number(m.group(1))
        if n and n < 30:
            out.append(Congress(f"{m.group(1)}大", f"第{m.group(1)}次全国代表大会", m.start(), m.end()))
    return out


_N = rf"[{CN_NUMERALS}0-9]{{1,3}}"  # a term or session number

# ------------------------------------------------------------------------- Central Committee plenums
_PLENUM = re.compile(rf"(?<![{CN_NUMERALS}0-9])(?:第?({_N})届(?:中央委员会)?)?(?:([{CN_NUMERALS}]{{1,2}})中全会"
                     rf"|第([{CN_NUMERALS}]{{1,2}})次(?:中央)?全体会议)")


@dataclass(frozen=True)
class Plenum:
    """A plenary session of a Central Committee: "十九届五中全会" = "第十九届中央委员会第五次全体会议"."""

    label: str  # as written
    forms: tuple[str, ...]  # the ways documents write it


def plenums(text: str) -> list[Plenum]:
    """Plenary sessions a text names by number ("十九届五中全会", "党的十九届中央委员会第五次全体会议",
    "五中全会"): a plenum of another number, or another term's, is another meeting. Not a discipline
    commission's ("中央纪委三次全会", "中纪委三中全会") or a congress's sessions."""
    out = []
    for m in _PLENUM.finditer(text):
        term, n = m.group(1), m.group(2) or m.group(3)
        if not cn_number(n) or "纪" in text[max(0, m.start() - 4) : m.start()]:
            continue
        if m.group(3) and not term:
            continue  # "第五次全体会议" alone: of any body
        forms = [f"{n}中全会", f"第{n}次全体会议"] if not term else [
            f"{term}届{n}中全会", f"第{term}届中央委员会第{n}次全体会议", f"{term}届中央委员会第{n}次全体会议"]
        out.append(Plenum(m.group(0), tuple(forms)))
    return out


# ------------------------------------------------------------------ provinces
PROVINCES = (
    "北京", "天津", "河北", "山西", "内蒙古", "辽宁", "吉林", "黑龙江", "上海", "江苏", "浙江", "安徽", "福建",
    "江西", "山东", "河南", "湖北", "湖南", "广东", "广西", "海南", "重庆", "四川", "贵州", "云南", "西藏",
    "陕西", "甘肃", "青海", "宁夏", "新疆", "香港", "澳门", "台湾",
)


# ------------------------------------------------------------------ National People's Congress sessions
# The year each session of each NPC met (public record): a work report is filed by its year, and a question
# names its session ("三届人大一次会议", "第五届全国人民代表大会第二次会议"). From the sixth NPC on, one
# session a year from the term's first. The third NPC's first session (Dec. 1964) gave the 1964 report.
_NPC_YEARS: dict[int, tuple[int, ...]] = {1: (1954, 1955, 1956, 1957, 1958), 2: (1959, 1960, 1962, 1963),
                                          3: (1964,), 4: (1975,), 5: (1978, 1979, 1980, 1981, 1982)}
_NPC_FIRST_ANNUAL, _NPC_FIRST_ANNUAL_YEAR = 6, 1983
_NPC = re.compile(
    rf"(?<![{CN_NUMERALS}0-9])第?({_N})届(全国人大|全国人民代表大会|人大)(?!常委)(?:第?({_N})次(?:会议|大会)?)?"
)
_LOCAL = re.compile(rf"(?:[省市区县州]|{'|'.join(PROVINCES)})$")  # "宁夏十三届人大四次会议": a province's congress


@dataclass(frozen=True)
class NpcSession:
    """An NPC session (or a whole term, when no session is named) and the years it met in."""

    label: str  # as written: "三届人大一次会议"
    years: tuple[int, ...]
    forms: tuple[str, ...]  # the ways documents write it: "第三届全国人民代表大会第一次会议", "三届全国人大一次会议", …


def _npc_years(term: int, session: int | None) -> tuple[int, ...]:
    if term in _NPC_YEARS:
        years = _NPC_YEARS[term]
    elif term >= _NPC_FIRST_ANNUAL:
        first = _NPC_FIRST_ANNUAL_YEAR + 5 * (term - _NPC_FIRST_ANNUAL)
        years = tuple(range(first, first + 5))
    else:
        return ()
    if session is None:
        return years
    return (years[session - 1],) if 1 <= session <= len(years) else ()


def npc_sessions(text: str) -> list[NpcSession]:
    """NPC sessions a text names, with the year each met ("三届人大一次会议" -> 1964, "十二届全国人大三次
    会议" -> 2015); a term without a session gives every year of the term ("四届人大" -> 1975, "五届人大" ->
    1978-1982). Its standing committee ("人大常委会"), a province's congress ("省十四届人大") and terms that
    never met are none."""
    out = []
    norm = normalize(text)
    for m in _NPC.finditer(norm):
        if m.group(2) == "人大" and _LOCAL.search(norm, 0, m.start()):
            continue
        t, s = m.group(1), m.group(3)
        term = cn_number(t)
        session = cn_number(s) if s else None
        years = _npc_years(term, session) if term else ()
        if years:
            tail = ("", "", "") if s is None else (f"第{s}次会议", f"{s}次会议", f"{s}次会议")
            forms = (f"第{t}届全国人民代表大会{tail[0]}", f"{t}届全国人大{tail[1]}", f"{t}届人大{tail[2]}")
            out.append(NpcSession(m.group(0), years, forms))
    return out


# ---------------------------------------------------------------------------------------- sentences
SENTENCE_ENDS = "。！？；…!?;"  # "……" (one run) ends an elided sentence; "；" ends a clause that stands alone
CLOSERS = "”’」』）)》】〕］]\"'"  # closing quotes and brackets: kept with the sentence they close
SENTENCE_END = re.compile(rf"[{SENTENCE_ENDS}][{re.escape(CLOSERS)}{SENTENCE_ENDS}]*")  # match end: a break
_TITLE_MAX = 80  # a 《title》 longer than this (or broken by a line end) is an unclosed bracket, not a title


def _title_end(text: str, i: int) -> int:
    """The offset after the 》 closing the 《 at i, or -1 when it does not close on its line soon."""
    depth = 0
    for j in range(i, min(len(text), i + _TITLE_MAX)):
        c = text[j]
        if c == "\n":
            return -1
        depth += (c == "《") - (c == "》")
        if depth == 0:
            return j + 1
    return -1


def sentence_breaks(text: str, trail: re.Pattern[str] | None = None) -> list[int]:
    """Offsets where a sentence ends: after a run of SENTENCE_ENDS and the CLOSERS that follow it, and at
    each line end. Never inside a 《title》 ("《关于……！》"); a number like 3.5 is never cut ("." is not an end).
    `trail`: what else stays on the sentence after its end, e.g. citation markers r"\\[\\d+\\]" ("。[1]")."""
    out: list[int] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "《":
            close = _title_end(text, i)
            if close > 0:
                i = close
                continue
        if c == "\n":
            out.append(i)
        elif c in SENTENCE_ENDS:
            j = i + 1
            while j < n:
                if text[j] in SENTENCE_ENDS or text[j] in CLOSERS:
                    j += 1
                    continue
                m = trail.match(text, j) if trail is not None else None
                if m and m.end() > j:
                    j = m.end()
                    continue
                break
            out.append(j)
            i = j
            continue
        i += 1
    return [b for k, b in enumerate(out) if b < n and (not k or b != out[k - 1])]


def sentence_spans(text: str, trail: re.Pattern[str] | None = None) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences of `text`, in order, without surrounding whitespace; empty ones
    left out. Breaks as in `sentence_breaks` (closing quotes and brackets stay with their sentence, line ends
    end a sentence, a 《title》 is never split)."""
    spans = []
    start = 0
    for end in [*sentence_breaks(text, trail), len(text)]:
        a, b = start, end
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b > a:
            spans.append((a, b))
        start = end
    return spans


def sentences(text: str, trail: re.Pattern[str] | None = None) -> list[str]:
    """The sentences of `text` (see `sentence_spans`)."""
    return [text[a:b] for a, b in sentence_spans(text, trail)]
