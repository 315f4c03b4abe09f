"""The note an answer carries on how "今年/去年" were read (pure: no archive)."""

from __future__ import annotations

from bot.qa import assumed_year_note
from vectorstore.query import analyse


def test_no_relative_word_no_note() -> None:
    assert assumed_year_note(analyse("2025年民生实事有哪些？", this_year=2026)) == ""


def test_relative_words_are_read_against_today() -> None:
    note = assumed_year_note(analyse("今年比去年多建了多少？", this_year=2026))
    assert "“今年”按2026年理解" in note and "“去年”按2025年理解" in note


def test_this_year_read_as_last_year_says_so() -> None:
    note = assumed_year_note(analyse("今年民生实事有哪些？", this_year=2026, lag=1))
    assert note.strip() == "（资料库中没有2026年的相关资料，“今年”按2025年理解。）"
