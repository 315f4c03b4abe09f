"""Follow-up questions ("那第二条呢？", "他负责什么？") made standalone before retrieval.

With a chat model, a short rewrite prompt asks it for the standalone question; without one (or when the
model fails, times out or returns something unusable) a rule does: a question that leans on the previous
one (starts with 那/这/它/他/其/第N条…, or is very short) gets the previous question's subject put in front.
Questions that stand on their own are never sent to the model: that saves a model call per turn.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

from langchain_core.prompts import ChatPromptTemplate

from core.zh import SENTENCE_ENDS

log = logging.getLogger(__name__)

History = Sequence[tuple[str, str]]  # (question, answer) pairs, oldest first

_NUM = "一二三四五六七八九十两0-9"
# Words that point back at the previous turn when a question starts with them.
_LEADING = re.compile(
    rf"^(?:那么|那|还有|另外|此外|再|以及|和|跟|而)?\s*"
    rf"(?:(?:这|那|该|此)(?:个|些|项|条|位|份|次|件|种|点)?|它们?|他们?|她们?|其|第[{_NUM}]+[条项点个次部分]?)"
)
_LEADING_CONNECTIVE = re.compile(r"^(?:那么|那|还有|另外|此外|再|以及|而)[，,\s]*")
_SHORT = 8  # characters (without punctuation): shorter questions after a first turn are follow-ups
_ASKING_TAIL = re.compile(
    r"(?:(?:具体)?(?:是|有|包括|指|为)?(?:什么|哪些|哪几[个项条]?|多少|几[个项条]?|谁|哪位|哪个部门|哪里|何时|什么时候)"
    r"(?:内容|要求|措施|意见|工作|时候)?|(?:由|归)?(?:谁|哪个部门|哪些部门|哪位)(?:来)?(?:负责|牵头|主持|承担|落实)"
    rf"|怎么样|如何|怎样|为什么|吗|呢|么|啊)?[{SENTENCE_ENDS}\s]*$"
)
_POLITE = re.compile(r"^(?:请问|请|我想知道|想问一下|问一下)[，,\s]*")
_PRONOUN = re.compile(r"^(?:它们?|他们?|她们?|其|这(?:个|些|项|位)?|那(?:个|些|项|位)?|该(?:项|位)?|此)")


def looks_like_follow_up(question: str) -> bool:
    core = re.sub(rf"[\s{SENTENCE_ENDS}，,、：:]", "", question)
    return bool(_LEADING.match(core)) or len(core) <= _SHORT


def subject(question: str) -> str:
    """The key subject of a question: polite openers and the asking words at its end taken off.

    "会议决定5月的工作重点是什么？" -> "会议决定5月的工作重点"; "共享单车整治由谁负责？" -> "共享单车整治".
    """
    q = _POLITE.sub("", question.strip())
    prev = None
    while prev != q:  # "……有哪些要求呢？": take off one asking word after another
        prev = q
        q = _ASKING_TAIL.sub("", q) if _ASKING_TAIL.search(q) else q
        q = q.rstrip("的，, ")
    return q or question.strip()


def rewrite_rule(question: str, history: History | None) -> str:
    """The standalone question by rule: unchanged unless it leans on the previous turn."""
    q = question.strip()
    if not history or not q or not looks_like_follow_up(q):
        return q
    about = topic(history)
    subj = subject(about)
    if not subj or subj in q:
        return q
    rest = _LEADING_CONNECTIVE.sub("", q)
    rest = _PRONOUN.sub("", rest).lstrip("，, ")
    if re.fullmatch(r"[^？?]*呢[？?]?", rest) and not _has_asking_word(rest):
        # "那第二条呢？" asks the previous question again about something else: keep its asking words
        plain = _POLITE.sub("", about.strip())
        tail = plain[len(subj):].strip() if plain.startswith(subj) else ""
        tail = tail.lstrip("的") if tail and _has_asking_word(tail) else "是什么？"
        rest = re.sub(r"呢[？?]?$", "", rest) + (tail if tail.endswith(("？", "?")) else tail + "？")
    if not rest or re.fullmatch(rf"[{SENTENCE_ENDS}\s]*", rest):
        return f"{subj}？"
    joiner = "" if rest.startswith(("的", "第")) or re.match(r"[\u4e00-\u9fff]", rest) else "，"
    return f"{subj}{joiner}{rest}"


def _has_asking_word(text: str) -> bool:
    return bool(re.search(r"什么|哪|谁|多少|几|怎么|如何|为什么|何", text))


def topic(history: History) -> str:
    """The question the conversation is about: the latest one that stands on its own ("第三条呢？" after
    "那第二条呢？" still refers to the question before both)."""
    questions = [q.strip() for q, _a in history if q and q.strip()]
    for q in reversed(questions):
        if not looks_like_follow_up(q):
            return q
    return questions[-1] if questions else ""


# --------------------------------------------------------------------------------------------- model
REWRITE_SYSTEM = (
    "你负责改写问题。根据对话记录，把用户的后续问题改写成一个完整、独立的问题，"
    "补全其中的代词和省略的主语，使不看对话记录也能理解。不要回答问题，不要解释，只输出改写后的问题。\n"
    "例如：对话记录“问：市政府今年的重点工作是什么？”，后续问题“那第二项呢？”，"
    "改写为“市政府今年的第二项重点工作是什么？”。"
)
REWRITE_HUMAN = "对话记录：\n{history}\n\n后续问题：{question}\n\n改写后的问题："
REWRITE_PROMPT = ChatPromptTemplate.from_messages([("system", REWRITE_SYSTEM), ("human", REWRITE_HUMAN)])


def format_history(history: History, turns: int = 3, answer_chars: int = 150) -> str:
    lines = []
    for q, a in list(history)[-turns:]:
        a = re.sub(r"\s+", " ", a or "").strip()
        lines.append(f"问：{q.strip()}\n答：{a[:answer_chars]}{'…' if len(a) > answer_chars else ''}")
    return "\n".join(lines)


def clean_model_rewrite(text: str, question: str, max_chars: int = 200) -> str | None:
    """The model's rewrite, or None when it is not a usable question."""
    line = next((s.strip() for s in (text or "").splitlines() if s.strip()), "")
    line = re.sub(r"^(?:改写后的问题|问题|问)[:：]\s*", "", line).strip().strip("“”\"'")
    if not line or len(line) > max(max_chars, 3 * len(question)) or len(line) < len(question.strip()) // 2:
        return None
    if not (line.endswith(("？", "?")) or _has_asking_word(line)):
        return None  # it answered instead of rewriting ("他负责共享单车整治。")
    return line


def rewrite_question(question: str, history: History | None, chat: Any = None, timeout_s: float = 20.0) -> str:
    """The standalone question for retrieval. `chat` is a `bot.llm.ChatModel` (or None: the rule only)."""
    q = question.strip()
    if not history or not q or not looks_like_follow_up(q):
        return q
    if chat is not None:
        from bot.llm import stream_with_deadline

        try:
            chain = REWRITE_PROMPT | chat.model  # no parser: closing its stream would not stop the model
            inputs = {"history": format_history(history), "question": q}
            text = "".join(stream_with_deadline(chain, inputs, timeout_s, chat.lock))
            cleaned = clean_model_rewrite(text, q)
            if cleaned:
                return cleaned
            log.info("model rewrite unusable (%r); using the rule", text[:80])
        except Exception as e:  # noqa: BLE001 - any model failure falls back to the rule
            log.warning("model rewrite failed (%s); using the rule", e)
    return rewrite_rule(q, history)
