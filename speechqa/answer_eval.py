"""What the user reads, scored: is the gold answer inside the answer text, are all the items of a list
there, is an unanswerable question refused, how long is the answer. Overall and per question kind.

- answer_span: every gold string (`answer_parts`, else `answer`) occurs in the answer text, both sides
  normalised as the dev set's README says (entities, NFKC, traditional to simplified, no whitespace); a
  refused answerable question scores 0;
- item_recall: for list questions, the share of `answer_parts` found in the answer text;
- refusal_acc: unanswerable questions refused; wrongly_refused: answerable questions refused;
- chars_p50: median length of the answers given to answerable non-list questions (markers excluded);
- p50/p95 ms: time to the whole answer (`Answer.ms["total"]`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from core.zh import squash
from speechqa.stats import mean, pct

_MARKER = re.compile(r"\[\d+\]")
COLUMNS = ["n", "answer_span", "item_recall", "refusal_acc", "wrongly_refused", "chars_p50", "p50_ms", "p95_ms"]


def gold_parts(item: dict[str, Any]) -> list[str]:
    return [str(p) for p in (item.get("answer_parts") or [])] or ([str(item["answer"])] if item.get("answer") else [])


def found_parts(item: dict[str, Any], text: str) -> list[bool]:
    flat = squash(_MARKER.sub("", text))
    return [squash(p) in flat for p in gold_parts(item)]


@dataclass
class AnswerScore:
    """The answers to one set of questions, tallied overall and per kind."""

    rows: dict[str, dict[str, list[float]]] = field(default_factory=dict)

    def _row(self, key: str) -> dict[str, list[float]]:
        return self.rows.setdefault(key, {c: [] for c in ("span", "recall", "refused_ok", "wrong", "chars", "ms")})

    def add(self, item: dict[str, Any], text: str, refused: bool, ms: float) -> dict[str, Any]:
        kind = str(item.get("kind") or "fact")
        rec: dict[str, Any] = {"kind": kind, "refused": refused}
        for key in ("all", kind):
            row = self._row(key)
            row["ms"].append(ms)
            if not item.get("doc"):
                row["refused_ok"].append(float(refused))
                continue
            row["wrong"].append(float(refused))
            found = [False] * len(gold_parts(item)) if refused else found_parts(item, text)
            row["span"].append(float(all(found)))
            if kind == "list":
                row["recall"].append(sum(found) / len(found) if found else 0.0)
            elif not refused:
                row["chars"].append(float(len(_MARKER.sub("", text))))
            rec["span"] = all(found)
            rec["found"] = found
        return rec

    def table(self, label: str) -> str:
        lines = [f"| {label} | " + " | ".join(COLUMNS) + " |", "|---" * (len(COLUMNS) + 1) + "|"]
        keys = ["all"] + sorted(k for k in self.rows if k != "all")
        for key in keys:
            r = self.rows[key]
            n = len(r["ms"])
            cells = [str(n), _f(r["span"]), _f(r["recall"]), _f(r["refused_ok"]), _f(r["wrong"]),
                     f"{pct(r['chars'], 0.5):.0f}" if r["chars"] else "-",
                     f"{pct(r['ms'], 0.5):.0f}", f"{pct(r['ms'], 0.95):.0f}"]
            lines.append(f"| {key} | " + " | ".join(cells) + " |")
        return "\n".join(lines)


def _f(values: list[float]) -> str:
    return f"{mean(values):.2f}" if values else "-"


def select(items: Iterable[dict[str, Any]], archive: str | None = None, split: str | None = None,
           ) -> list[dict[str, Any]]:
    """The questions of one archive ("corpus" when a row names none) and one split."""
    return [it for it in items
            if (archive is None or (it.get("archive") or "corpus") == archive)
            and (split is None or it.get("split") == split)]
