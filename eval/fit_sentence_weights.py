"""Fit the answer layer's sentence weights (`bot.answer.SENTENCE_WEIGHTS`) on tuning questions only.

For every tuning question the product would answer, the sentences each part chose among are collected
(`bot.answer.extract`'s observer) and labelled: a sentence is right when it holds a gold answer string
(normalised as `speechqa eval` does). The weights are then fitted to put a right sentence first: a listwise
softmax over each choice that holds one, started from today's weights, with an L2 pull back towards them.
The weight of the subject share stays 1 (it sets the scale the other thresholds are written in).

    python eval/fit_sentence_weights.py --db /tmp/evaldb --demo-db /tmp/demodb

Decides nothing by itself: it prints the weights; whether they go into the code is decided by
`speechqa eval` on the tuning halves (docs/EVAL.md).
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

TUNING = [  # (file, split) -- never a held-out half
    ("eval/answer_questions.jsonl", "tune"),
    ("eval/more_questions.jsonl", "tune"),
    ("eval/heldout_questions.jsonl", None),  # the old held-out set: used for decisions since session 3
    ("../shared/eval/dev_questions.jsonl", None),
]


@dataclass
class Choice:
    """The sentences one part of one question chose among, with at least one right and one wrong."""

    question: str
    texts: list[str]  # each sentence's text
    feats: np.ndarray  # (sentences, features): `bot.answer.FEATURES`
    priors: np.ndarray
    labels: np.ndarray  # 1.0 where the sentence holds a gold answer string


def collect(qa: Any, items: list[dict[str, Any]]) -> list[Choice]:
    """Every choice with a right sentence among two or more."""
    from core.zh import squash

    groups = []
    for it in items:
        if not it.get("answer"):
            continue
        gold = [squash(str(p)) for p in (it.get("answer_parts") or [it["answer"]])]
        retrieval = qa.retrieve(it["question"])
        if qa.refusal_reason(retrieval) is not None:
            continue
        citations = qa.citations(retrieval)
        seen: list[Any] = []

        def keep(part: Any, sents: list[Any], seen: list[Any] = seen) -> None:
            seen.append(list(sents))

        qa.extract(it["question"], retrieval, citations, observe=keep)
        for sents in seen:
            if len(sents) < 2:
                continue
            labels = np.array([any(g in squash(c.units[0].text) for g in gold) for c in sents], dtype=float)
            if labels.any() and not labels.all():
                groups.append(Choice(it["question"], [c.units[0].text for c in sents],
                                     np.array([c.features for c in sents]), np.array([c.prior for c in sents]),
                                     labels))
    return groups


def collect_all(db: Path, demo_db: Path | None, sets: list[tuple[str, str | None]] = TUNING) -> list[Choice]:
    """The choices of every tuning set, over the corpus index (and the demo index when given)."""
    from bot.qa import QA
    from core.settings import Settings
    from speechqa.answer_eval import select

    qas = {"corpus": QA(Settings(db=db))}
    if demo_db is not None:
        qas["demo"] = QA(Settings(db=demo_db))
    groups: list[Choice] = []
    for path, split in sets:
        items = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
        for archive, qa in qas.items():
            groups += collect(qa, select(items, archive, split))
    return groups


def fit(groups: list[Choice], start: np.ndarray, l2: float, steps: int = 3000, rate: float = 0.05) -> np.ndarray:
    w = start.copy()
    for _ in range(steps):
        grad = l2 * (w - start)
        for g in groups:
            feats, priors, labels = g.feats, g.priors, g.labels
            s = priors * (feats @ w)
            p = np.exp(s - s.max())
            p /= p.sum()
            q = p * labels / (p * labels).sum()  # the softmax restricted to the right ones
            grad += ((p - q)[:, None] * priors[:, None] * feats).sum(0) / len(groups)
        grad[0] = 0.0  # the subject share keeps weight 1
        w -= rate * grad
    return w


def top1(groups: list[Choice], w: np.ndarray) -> float:
    return float(np.mean([g.labels[np.argmax(g.priors * (g.feats @ w))] for g in groups]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True, type=Path)
    ap.add_argument("--demo-db", required=True, type=Path)
    ap.add_argument("--l2", type=float, default=0.1)
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from bot.answer import FEATURES, SENTENCE_WEIGHTS

    groups = collect_all(args.db, args.demo_db)
    start = np.array(SENTENCE_WEIGHTS, dtype=float)
    # two-fold check inside the tuning data: fitted on every other choice, judged on the rest
    for fold in (0, 1):
        train, test = groups[fold::2], groups[1 - fold :: 2]
        wf = fit(train, start, args.l2)
        print(f"fold {fold}: right first on the unseen half: today {top1(test, start):.3f}, fitted {top1(test, wf):.3f}")
    w = fit(groups, start, args.l2)
    print(f"choices with a right sentence: {len(groups)}")
    print(f"right sentence first: today {top1(groups, start):.3f}, fitted {top1(groups, w):.3f}")
    for name, a, b in zip(FEATURES, start, w, strict=True):
        print(f"  {name:16s} {a:+.3f} -> {b:+.3f}")
    print("SENTENCE_WEIGHTS = (" + ", ".join(f"{x:.2f}" for x in w) + ")")


if __name__ == "__main__":
    main()
