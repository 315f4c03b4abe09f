"""Would the embedder's meaning help pick the answer sentence? Measured on tuning questions only.

Issue 12 asks for the loaded embedder at sentence level, fused with the lexical and kind signals, each
measured alone and together. This collects the choices `eval/fit_sentence_weights.py` fits on (the
sentences one part of a question chose among, at least one holding a gold string), embeds the question
(e5 query) and every sentence (e5 passage), and prints how often the right sentence comes first:

- by today's weighed score (the lexical and kind features, `bot.answer.SENTENCE_WEIGHTS`);
- by the cosine similarity alone;
- with the similarity as one more feature, weights refitted on half the choices and judged on the other
  half (both ways), beside the same refit without it.

    python eval/dense_sentence_check.py --db /tmp/evaldb

Decides nothing by itself; its figures are in docs/EVAL.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fit_sentence_weights import TUNING, Choice, collect_all, fit, top1  # noqa: E402 (a sibling script)

SETS = [*TUNING, ("eval/fresh_questions.jsonl", "tune"), ("eval/nearmiss_questions.jsonl", "tune"),
        ("eval/person_questions.jsonl", "tune")]


def similarities(groups: list[Choice], embedder: object) -> list[np.ndarray]:
    """Cosine similarity of each choice's question to each of its sentences."""
    cache: dict[str, np.ndarray] = {}
    out = []
    for g in groups:
        need = [t for t in dict.fromkeys(g.texts) if t not in cache]
        if need:
            for t, v in zip(need, embedder.embed_passages(need), strict=True):  # type: ignore[attr-defined]
                cache[t] = v / np.linalg.norm(v)
        q = embedder.embed_query(g.question)  # type: ignore[attr-defined]
        out.append(np.array([cache[t] for t in g.texts]) @ (q / np.linalg.norm(q)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True, type=Path)
    ap.add_argument("--l2", type=float, default=0.1)
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from bot.answer import SENTENCE_WEIGHTS
    from core.settings import Settings
    from vectorstore.embeddings import get_embedder

    groups = collect_all(args.db, None, SETS)
    sims = similarities(groups, get_embedder(Settings(db=args.db)))
    # the similarity as a feature: its distance below the best sentence of the choice, in tenths
    dense = [dataclasses.replace(g, feats=np.column_stack([g.feats, (s - s.max()) * 10]))
             for g, s in zip(groups, sims, strict=True)]
    start = np.array(SENTENCE_WEIGHTS, dtype=float)
    print(f"choices with a right sentence: {len(groups)}")
    print(f"right sentence first: today's score {top1(groups, start):.3f}, "
          f"similarity alone {np.mean([g.labels[np.argmax(s)] for g, s in zip(groups, sims, strict=True)]):.3f}")
    for fold in (0, 1):
        lexical = fit(groups[fold::2], start, args.l2)
        both = fit(dense[fold::2], np.append(start, 0.0), args.l2)
        print(f"fold {fold}, unseen half: today {top1(groups[1 - fold :: 2], start):.3f}, "
              f"refitted without similarity {top1(groups[1 - fold :: 2], lexical):.3f}, "
              f"refitted with it {top1(dense[1 - fold :: 2], both):.3f} (its weight {both[-1]:+.2f})")


if __name__ == "__main__":
    main()
