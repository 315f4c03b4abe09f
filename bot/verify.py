"""Checking a generated answer against the passages it was given, sentence by sentence.

A sentence is kept only when
- it cites at least one passage, and every [n] it cites is a passage that was given;
- every figure (digits, full-width digits, Chinese numerals with a unit, percentages, ordinals), date and
  quoted name or title it holds occurs in the passage(s) it cites (both sides normalised with `squash`);
- it shares enough of its wording with the cited passage(s) (a loose check against a citation stuck on an
  unrelated sentence).
Text in a passage that reads as an order to the model ("忽略以上要求……") never counts as support.

A sentence that cites a given passage which does not support it, while another given passage clearly does
(all its figures and quotes, REPAIR_OVERLAP of its wording), is kept citing that passage instead: small
models often copy the right sentence and put the wrong number on it. The shown citation is then one that
passes every check above. REPAIR_CITATIONS = False turns this off (such sentences are then dropped).

What survives is the answer; when nothing does, the extractive answer (or the refusal, for a refused
question) is shown instead. `COUNTERS` counts which path each answer took, for evaluation.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Literal

from core.zh import ascii_digits, cn_number, normalize, sentence_spans, sentences, squash

Outcome = Literal["generated_kept", "sentences_dropped", "fallback_extractive", "fallback_refusal"]
Reason = Literal["no_citation", "bad_citation", "unsupported_figure", "unsupported_quote", "unsupported_wording",
                 "empty"]

MIN_OVERLAP = 0.3  # share of a sentence's Chinese character bigrams that must occur in its cited passages
REPAIR_OVERLAP = 0.6  # ...that another passage must hold for a miscited sentence to be moved to it
REPAIR_CITATIONS = True  # small models often cite the wrong passage number; False: drop such sentences


# ---------------------------------------------------------------------------------------------- counters
@dataclass
class Counters:
    """How often each path was taken. Thread-safe; `snapshot()` for evaluation, `reset()` between runs."""

    generated_kept: int = 0  # the generated answer shown whole
    sentences_dropped: int = 0  # shown after dropping unsupported sentences
    fallback_extractive: int = 0  # nothing valid (or no model output): the extractive answer shown
    fallback_refusal: int = 0  # the question was refused: the refusal shown, whatever the model said
    dropped: dict[str, int] = field(default_factory=dict)  # dropped sentences by reason
    recited: int = 0  # kept sentences whose citation was moved to the passage that supports them
    timeouts: int = 0
    errors: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, path: Outcome, dropped: list[Reason] | None = None, recited: int = 0) -> None:
        with self._lock:
            setattr(self, path, getattr(self, path) + 1)
            self.recited += recited
            for r in dropped or []:
                self.dropped[r] = self.dropped.get(r, 0) + 1

    def event(self, name: Literal["timeouts", "errors"]) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + 1)

    def snapshot(self) -> dict[str, object]:
        with self._lock:
            return {
                "generated_kept": self.generated_kept, "sentences_dropped": self.sentences_dropped,
                "fallback_extractive": self.fallback_extractive, "fallback_refusal": self.fallback_refusal,
                "dropped": dict(self.dropped), "recited": self.recited, "timeouts": self.timeouts, "errors": self.errors,
            }

    def reset(self) -> None:
        with self._lock:
            self.generated_kept = self.sentences_dropped = self.fallback_extractive = self.fallback_refusal = 0
            self.timeouts = self.errors = self.recited = 0
            self.dropped = {}


COUNTERS = Counters()


# ------------------------------------------------------------------------------------------ citations
_MARK = re.compile(r"\[(\d+)\]")
_MARK_VARIANTS = re.compile(r"[\[【［]\s*(?:资料|段落|来源|文献|材料)?\s*(\d+(?:\s*[,，、]\s*\d+)*)\s*[\]】］]")


def normalise_marks(text: str) -> str:
    """【1】, ［1］, [资料1], [1, 2] and [1、2] as [1] / [1][2]."""
    return _MARK_VARIANTS.sub(lambda m: "".join(f"[{n}]" for n in re.findall(r"\d+", m.group(1))), text)


def cited(text: str) -> list[int]:
    return [int(n) for n in _MARK.findall(text)]


# ------------------------------------------------------------------------------------------ sentences
_TRAIL = re.compile(r"\s*\[\d+\]")  # citation markers after a sentence's end stay on it: "……。[1]"
_MARKS_ONLY = re.compile(r"(?:\s*\[\d+\])+\s*")
_BULLET = re.compile(r"^\s*(?:[-*•·]|\d+[.、)）](?!\d)|[（(]\d+[)）]|[一二三四五六七八九十]+、)\s*")


def split_sentences(answer: str) -> list[str]:
    """Sentences (core.zh.sentences) with the [n] markers that follow their end kept on them ("……。[1]"
    and "……[1]。" alike). Lines are sentences of their own; list bullets ("1." "-") are dropped from their
    starts."""
    merged: list[str] = []
    for s in (_BULLET.sub("", s).strip() for s in sentences(normalise_marks(answer), _TRAIL)):
        if merged and _MARKS_ONLY.fullmatch(s):
            merged[-1] += s  # "……。" then "[1]" on the next line: the marker belongs to the sentence
        elif s:
            merged.append(s)
    return merged


# ------------------------------------------------------------------------------------- facts to check
_CN_NUM = "零〇一二三四五六七八九十百千两"
_UNITS = ("平方公里|平方米|公里|千米|百分点|个|项|条|家|所|次|届|年|月|日|号|天|周|岁|万|亿|倍|名|人|位|辆|座|户|元|"
          "米|吨|亩|件|批|期|份|点|处|类|种|级|部|台|张|本|篇|分钟|小时|时|秒|度|%|‰")
_ARABIC = re.compile(rf"(第)?(\d+(?:\.\d+)?)\s*({_UNITS})?")
_CHINESE = re.compile(rf"(第)?([{_CN_NUM}]+?)({_UNITS})")
_PERCENT = re.compile(rf"百分之([{_CN_NUM}]+|\d+(?:\.\d+)?)")
_ISO_DATE = re.compile(r"(?<!\d)(\d{4})[-./](\d{1,2})[-./](\d{1,2})(?!\d)")
_QUOTED = re.compile(r"“([^”]{2,60})”|「([^」]{2,60})」|『([^』]{2,60})』|《([^》]{1,60})》|\"([^\"]{2,60})\"|‘([^’]{2,60})’")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
# 二０二０年 (full-width zeros among Chinese digits, NFKC-folded to 二0二0): a year written digit by digit
_MIXED_DIGITS = re.compile(r"[〇零一二三四五六七八九0-9]*(?:[〇零一二三四五六七八九][0-9]|[0-9][〇零一二三四五六七八九])[〇零一二三四五六七八九0-9]*")
# units that count the same thing: 420名 = 四百二十人 = 420位
_SAME_UNIT = {"名": "人", "位": "人", "千米": "公里"}


def _canon(value: str) -> str:
    if "." in value:
        value = value.rstrip("0").rstrip(".")
    return value.lstrip("0") or "0"


@dataclass(frozen=True)
class Fact:
    kind: Literal["figure", "quote"]
    value: str  # the number ("第" prefixed for ordinals) or the squashed quoted text
    unit: str = ""
    raw: str = ""


def figures(text: str) -> list[Fact]:
    """Numbers with their unit: 5月, ５月, 五月, 2022年, 百分之五十 (= 50%), 第二条, 3.5万, 1,200元."""
    norm = _THOUSANDS.sub("", normalize(text))
    norm = _MIXED_DIGITS.sub(lambda m: ascii_digits(m.group(0)), norm)
    out: list[Fact] = []
    for m in _ISO_DATE.finditer(norm):
        out += [Fact("figure", _canon(m.group(1)), "年", m.group(0)), Fact("figure", _canon(m.group(2)), "月", m.group(0)),
                Fact("figure", _canon(m.group(3)), "日", m.group(0))]
    norm = _ISO_DATE.sub(" ", norm)
    for m in _PERCENT.finditer(norm):
        v = m.group(1)
        val = _canon(v) if v[0].isdigit() else str(cn_number(v))
        if val != "None":
            out.append(Fact("figure", val, "%", m.group(0)))
    norm = _PERCENT.sub(" ", norm)
    for m in _ARABIC.finditer(norm):
        unit = m.group(3) or ""
        out.append(Fact("figure", ("第" if m.group(1) else "") + _canon(m.group(2)), _SAME_UNIT.get(unit, unit), m.group(0)))
    for m in _CHINESE.finditer(norm):
        num = m.group(2)
        if m.start(2) > 0 and norm[m.start(2) - 1] in _CN_NUM:
            continue
        if num == "一" and not m.group(1):
            continue  # 一个, 一项, 一次: mostly an article, not a figure
        if num[0] in "百千" or num in ("零", "〇"):
            continue  # 百姓, 千方百计, 千家万户
        val = cn_number(num)
        if val is None:
            continue
        out.append(Fact("figure", ("第" if m.group(1) else "") + str(val), _SAME_UNIT.get(m.group(3), m.group(3)),
                        m.group(0)))
    return out


def quotes(text: str) -> list[Fact]:
    out = []
    for m in _QUOTED.finditer(text):
        inner = next(g for g in m.groups() if g is not None)
        q = squash(inner)
        if q and not _MARK.fullmatch(q):
            out.append(Fact("quote", q, raw=m.group(0)))
    return out


# ---------------------------------------------------------------------------------------- injection
_ORDERS = re.compile(
    r"忽略(?:以上|上述|之前|前面|先前|所有|全部|一切)|无视(?:以上|上述|之前|前面|所有)|不要(?:理会|遵守|引用)"
    r"|(?:系统|新的?)(?:提示|指令)|你(?:现在)?(?:必须|只能|应该)?(?:扮演|是一个)|(?:直接|只)(?:回答|输出)[:：]"
    r"|请(?:回答|输出|只回答)[:：]|答案(?:一律|都|永远)是|ignore (?:all |the )?(?:previous|above)|system prompt",
    re.IGNORECASE,
)


def orders(passage: str) -> list[str]:
    """Sentences of a passage that give the model orders (prompt injection): data, never support."""
    return [s for s in sentences(passage) if _ORDERS.search(s)]


def without_orders(passage: str) -> str:
    """The passage with its order sentences cut out, everything else as it was."""
    kept, last = [], 0
    for a, b in sentence_spans(passage):
        if _ORDERS.search(passage[a:b]):
            kept.append(passage[last:a])
            last = b
    return "".join(kept) + passage[last:]



# ----------------------------------------------------------------------------------------- checking
@dataclass
class Checked:
    sentence: str
    cites: list[int]
    reason: Reason | None = None  # None: kept
    detail: str = ""
    repaired: bool = False  # kept after its citation was moved to the passage that supports it


@dataclass
class Verdict:
    text: str  # what to show: the kept sentences, the extractive answer or the refusal
    path: Outcome
    sentences: list[Checked] = field(default_factory=list)

    @property
    def dropped(self) -> list[Checked]:
        return [s for s in self.sentences if s.reason is not None]

    @property
    def kept(self) -> list[Checked]:
        return [s for s in self.sentences if s.reason is None]


_CJK = re.compile(r"[\u4e00-\u9fff]")


def _bigrams(text: str) -> set[str]:
    chars = "".join(_CJK.findall(text))
    return {chars[i : i + 2] for i in range(len(chars) - 1)}


def _supported(fact: Fact, facts: set[tuple[str, str]], hay: str) -> bool:
    if fact.kind == "quote":
        return fact.value in hay
    if (fact.value, fact.unit) in facts:
        return True
    if not fact.unit:  # a bare number: any use of it in the passage
        return any(v == fact.value for v, _ in facts)
    return False


def _support(body: str, cites: list[int], passages: list[str], headers: list[str] | None, question: str = "",
             ) -> tuple[Reason | None, str, float]:
    """(reason it is not supported or None, detail, wording overlap) of a sentence body by the passages cited.
    Wording taken from the question does not count as support: restating the question around an invented
    name would otherwise pass."""
    sources = [without_orders(passages[n - 1]) + "\n" + (headers[n - 1] if headers else "") for n in sorted(set(cites))]
    hay = squash("".join(sources))
    facts = {(f.value, f.unit) for src in sources for f in figures(src)}
    body_figures = figures(body)
    for f in body_figures:
        if not _supported(f, facts, hay):
            return "unsupported_figure", f.raw, 0.0
    for f in quotes(body):
        if not _supported(f, facts, hay):
            return "unsupported_quote", f.raw, 0.0
    own = _bigrams(squash(body))
    grams = own - _bigrams(squash(question))
    if own and not grams and not body_figures:  # only the question's own words: it answers nothing
        return "unsupported_wording", "restates the question", 0.0
    share = len(grams & _bigrams(hay)) / len(grams) if grams else 1.0
    if share < MIN_OVERLAP:
        return "unsupported_wording", f"{share:.2f}", share
    return None, "", share


def check_sentence(sentence: str, passages: list[str], headers: list[str] | None = None,
                   repair: bool = False, question: str = "") -> Checked:
    """Check one sentence against the numbered passages (1-based [n]); `headers` add titles and dates.

    With `repair`, a sentence its cited passage does not support, but another given passage clearly does
    (every figure and quote in it, and REPAIR_OVERLAP of its wording), is kept citing that passage instead.
    Sentences without a citation or citing a passage that was not given are never repaired.
    """
    cites = cited(sentence)
    body = _MARK.sub("", sentence).strip()
    if len(_CJK.findall(body)) + len(re.findall(r"[A-Za-z0-9]", body)) < 2 and not figures(body):
        return Checked(sentence, cites, "empty")
    if not cites:
        return Checked(sentence, cites, "no_citation")
    bad = [n for n in cites if not 1 <= n <= len(passages)]
    if bad:
        return Checked(sentence, cites, "bad_citation", f"[{bad[0]}]")
    reason, detail, _share = _support(body, cites, passages, headers, question)
    if reason is None:
        return Checked(sentence, cites)
    if repair:
        best: tuple[float, int] | None = None
        for n in range(1, len(passages) + 1):
            if n in cites:
                continue
            r, _d, share = _support(body, [n], passages, headers, question)
            if r is None and share >= REPAIR_OVERLAP and (best is None or share > best[0]):
                best = (share, n)
        if best is not None:
            n = best[1]
            first = _MARK.search(sentence)
            assert first is not None  # it has citations
            fixed = sentence[: first.start()] + f"[{n}]" + _MARK.sub("", sentence[first.start():])
            old = "".join(f"[{c}]" for c in cites)
            return Checked(fixed, [n], None, f"{old}->[{n}]", repaired=True)
    return Checked(sentence, cites, reason, detail)


def check_answer(
    generated: str,
    passages: list[str],
    fallback: str,
    *,
    headers: list[str] | None = None,
    refused: bool = False,
    refusal: str = "",
    repair: bool | None = None,
    counters: Counters | None = COUNTERS,
    question: str = "",
) -> Verdict:
    """The text to show for a generated answer, and why. `fallback` is the extractive answer; a refused
    question keeps `refusal` whatever was generated. `repair` (default REPAIR_CITATIONS): see check_sentence."""
    repair = REPAIR_CITATIONS if repair is None else repair
    if refused:
        v = Verdict(refusal, "fallback_refusal")
    else:
        checked = [check_sentence(s, passages, headers, repair, question) for s in split_sentences(generated or "")]
        kept = [c.sentence for c in checked if c.reason is None]
        if not kept:
            v = Verdict(fallback, "fallback_extractive", checked)
        else:
            text = "".join(kept)
            v = Verdict(text, "sentences_dropped" if len(kept) < len(checked) else "generated_kept", checked)
    if counters is not None:
        counters.add(v.path, [c.reason for c in v.dropped if c.reason], sum(c.repaired for c in v.sentences))
    return v
