"""`speechqa eval --answer-mode`: extractive and generated answers side by side, with LangChain fake chat
models (no real model, no network) over a tiny real archive (catalog, Chroma, BM25) with a hashing embedder."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models.chat_models import SimpleChatModel
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import BaseMessage

from bot import llm, verify
from speechqa.evaluate import run_eval
from tests.support.fakes import SPEECH, HashEmbedder

GOOD = "会议决定，5月的工作重点是集中力量解决停车和共享单车乱停乱放问题[1]。"
INVENTED = "会议决定，5月的工作重点是在6月底前完成80%的整治任务[1]。"  # 6月 and 80% are in no passage
QUESTIONS = [
    {"id": "t1", "question": "会议决定5月的工作重点是什么？", "doc": "speech.txt",
     "answer": "共享单车乱停乱放影响市容环境", "kind": "decision"},
    {"id": "t2", "question": "共享单车整治工作由谁负责？", "doc": "speech.txt", "answer": "由我负责", "kind": "who"},
    {"id": "t3", "question": "2019年全国国防支出预算比上年增长了多少？", "doc": None, "answer": None,
     "kind": "unanswerable"},
]


@pytest.fixture(autouse=True)
def fresh_counters() -> Iterator[None]:
    verify.COUNTERS.reset()
    yield
    verify.COUNTERS.reset()


@pytest.fixture(scope="module")
def archive_qa(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from bot.qa import QA
    from core.settings import Settings
    from vectorstore.archive import Archive

    root = tmp_path_factory.mktemp("evalqa")
    (root / "src").mkdir()
    (root / "src" / "speech.txt").write_text(SPEECH, encoding="utf-8")
    settings = Settings(db=root / "db", llm_base_url="http://127.0.0.1:9/v1")
    archive = Archive(settings, embedder=HashEmbedder())
    assert archive.index_paths([root / "src" / "speech.txt"]).count("indexed") == 1
    return QA(settings, archive=archive)


@pytest.fixture
def questions(tmp_path: Path) -> Path:
    path = tmp_path / "questions.jsonl"
    path.write_text("\n".join(json.dumps(q, ensure_ascii=False) for q in QUESTIONS) + "\n", "utf-8")
    return path


class _Delayed(SimpleChatModel):
    """Answers `text` after `delay` seconds: a first token that takes measurable time."""

    text: str = GOOD
    delay: float = 0.2

    @property
    def _llm_type(self) -> str:
        return "delayed"

    def _call(self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: Any = None,
              **kwargs: Any) -> str:
        time.sleep(self.delay)
        return self.text


def use_model(monkeypatch: pytest.MonkeyPatch, model: Any) -> None:
    """Make `bot.llm.build_chat_model` hand out the fake model (as an OpenAI-compatible one)."""
    monkeypatch.setattr(llm, "build_chat_model", lambda settings, max_tokens=None: llm.ChatModel(model, "openai"))


def _tables(out: str) -> dict[str, list[str]]:
    """{row label: cells} of every markdown table row printed."""
    rows: dict[str, list[str]] = {}
    for line in out.splitlines():
        if line.startswith("| ") and not line.startswith("|---"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            rows[cells[0]] = cells[1:]
    return rows


def test_both_answers_side_by_side_with_latency(archive_qa: Any, questions: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    use_model(monkeypatch, _Delayed(text=GOOD, delay=0.2))
    out = tmp_path / "per-question.jsonl"
    assert run_eval(questions, archive_qa.settings, out=str(out), answer_mode="openai", qa=archive_qa) == 0
    printed = capsys.readouterr().out
    rows = _tables(printed)
    head = rows["answers"]
    assert head == ["hit@1", "hit@5", "span@5", "span_cited", "refusal_acc", "wrongly_refused",
                    "answered_unanswerable", "first_p50_s", "first_p95_s", "total_p50_s", "total_p95_s"]
    ext, gen = rows["extractive"], rows["generated (openai, default)"]
    col = {name: i for i, name in enumerate(head)}
    assert ext[col["hit@1"]] == gen[col["hit@1"]] == "1.00"
    assert gen[col["refusal_acc"]] == "1.00" and gen[col["answered_unanswerable"]] == "0"
    assert float(gen[col["first_p50_s"]]) >= 0.2  # the fake model's delay is inside the first-token time
    assert float(ext[col["total_p50_s"]]) < float(gen[col["total_p50_s"]])
    assert "hybrid" in rows  # the retrieval table is still there
    assert "shown as is 2" in printed and "refused 1" in printed

    records = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert [r["id"] for r in records] == ["t1", "t2", "t3"]
    first = records[0]
    assert first["generated"]["answer"] == GOOD and first["generated"]["path"] == "generated_kept"
    assert first["generated"]["cited_docs"] == ["speech.txt"] and first["generated"]["refused"] is False
    assert first["generated"]["first_s"] >= 0.2 and first["generated"]["total_s"] >= first["generated"]["first_s"]
    assert first["extractive"]["answer"] != GOOD and "5月" in first["extractive"]["answer"]
    assert first["extractive"]["total_s"] > 0 and first["extractive"]["span"] is True
    assert records[2]["generated"]["refused"] and records[2]["generated"]["path"] == "fallback_refusal"
    assert records[2]["extractive"]["refused"]


def test_invented_figure_is_counted_as_a_fallback(archive_qa: Any, questions: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    use_model(monkeypatch, FakeListChatModel(responses=[INVENTED]))
    out = tmp_path / "per-question.jsonl"
    assert run_eval(questions, archive_qa.settings, out=str(out), answer_mode="openai", limit=1, qa=archive_qa) == 0
    printed = capsys.readouterr().out
    assert "answers: 1 questions (1 answerable, 0 unanswerable)" in printed
    assert "fell back to extractive 1" in printed and '"unsupported_figure": 1' in printed
    rec = json.loads(out.read_text("utf-8"))
    gen = rec["generated"]
    assert gen["path"] == "fallback_extractive" and gen["raw"] == INVENTED
    assert gen["answer"] == rec["extractive"]["answer"]  # the user sees the extractive answer
    assert gen["dropped"][0]["reason"] == "unsupported_figure"
    assert gen["notices"] == ["生成的回答无法在资料中核实，已改为显示从资料中摘录的回答。"]
    assert verify.COUNTERS.snapshot()["fallback_extractive"] == 1


def test_without_answer_mode_only_retrieval_is_evaluated(archive_qa: Any, questions: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    def no_model(settings: Any, max_tokens: Any = None) -> None:
        raise AssertionError("no model may be built without --answer-mode")

    monkeypatch.setattr(llm, "build_chat_model", no_model)
    assert run_eval(questions, archive_qa.settings, qa=archive_qa, limit=2) == 0
    rows = _tables(capsys.readouterr().out)
    assert "hybrid" in rows and "extractive" not in rows


def test_missing_model_exits_1_with_a_chinese_message(archive_qa: Any, questions: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    settings = archive_qa.settings.model_copy(update={"llm_model_path": str(tmp_path / "none.gguf")})
    qa = type(archive_qa)(settings, archive=archive_qa.archive)
    assert run_eval(questions, settings, answer_mode="llamacpp", qa=qa, limit=1) == 1
    assert "找不到模型文件" in capsys.readouterr().err


def test_cli_flags() -> None:
    from speechqa.cli import build_parser

    args = build_parser().parse_args(["eval", "q.jsonl", "--answer-mode", "llamacpp", "--limit", "3"])
    assert (args.answer_mode, args.limit) == ("llamacpp", 3)
    args = build_parser().parse_args(["eval", "q.jsonl"])
    assert (args.answer_mode, args.limit) == (None, None)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["eval", "q.jsonl", "--answer-mode", "extractive"])


def test_percentile_is_the_nearest_value_of_the_sample() -> None:
    from speechqa.stats import mean, pct

    xs = [5.0, 1.0, 4.0, 2.0, 3.0]
    assert (pct(xs, 0.0), pct(xs, 0.5), pct(xs, 0.95), pct(xs, 1.0)) == (1.0, 3.0, 5.0, 5.0)
    assert mean(xs) == 3.0 and pct([], 0.5) != pct([], 0.5)  # NaN for no sample
