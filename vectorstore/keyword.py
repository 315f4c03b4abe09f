"""The keyword index: BM25 (bm25s) over jieba tokens (jieba-rs, same dictionary) of normalised text.

Tokens are computed once at ingest and kept in the catalog; the BM25 matrix is built from them after
each ingest, saved beside the catalog with the catalog generation it reflects, and loaded by readers.
Readers never hold the tokens themselves (at 160k passages they were 19M strings: 2.3 GB and 17 s to
load); the passage frequencies the query analysis needs come from the BM25 matrix.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

import bm25s
import numpy as np
import rjieba

from core.zh import normalize
from vectorstore.catalog import Catalog, PassageRow

_WORDISH = re.compile(r"[\w\u4e00-\u9fff]")
STOPWORDS = frozenset(
    ["的", "了", "是", "在", "和", "与", "及", "或", "等", "对", "为", "以", "于", "将", "把", "被", "由", "从", "向", "到", "也", "都", "又", "并", "而", "之", "其", "这", "那", "有", "个", "中", "上", "下", "什么", "哪些", "哪个", "哪", "多少", "几", "怎么", "怎样", "如何", "是否", "吗", "呢", "吧", "啊", "请问", "一下", "还", "就", "要", "会", "能", "可以", "我们", "你们", "他们", "提出", "关于", "方面", "问题", "情况", "工作", "进行", "哪里", "谁", "何时", "时候", "几月", "几日", "哪一天", "哪年"]
)


def tokenize(text: str) -> list[str]:
    """Search-mode jieba tokens (jieba-rs) of the normalised text, without punctuation and stopwords."""
    tokens = rjieba.cut_for_search(normalize(text), True)
    return [t for t in (t.strip() for t in tokens) if t and _WORDISH.search(t) and t not in STOPWORDS]


@dataclass
class KeywordHit:
    row: int  # position in KeywordIndex.rows
    score: float


class KeywordIndex:
    """BM25 over one collection's passages, as of one catalog generation."""

    def __init__(self, rows: list[PassageRow], model: bm25s.BM25 | None, generation: int) -> None:
        self.rows = rows
        self.model = model
        self.generation = generation
        self.position = {r.passage_id: i for i, r in enumerate(rows)}
        self._df: dict[str, int] | None = None
        self._doc_rows: dict[str, np.ndarray] | None = None

    @property
    def df(self) -> dict[str, int]:
        """Passage frequency of each token (computed on first use): the number of passages a token has a
        BM25 score in, i.e. the non-zeros of its column (every BM25 score of a present token is > 0)."""
        if self._df is None:
            df: dict[str, int] = {}
            if self.model is not None:
                indptr = np.asarray(self.model.scores["indptr"])
                counts = np.diff(indptr)
                for token, i in self.model.vocab_dict.items():
                    if i < len(counts) and counts[i]:
                        df[token] = int(counts[i])
            self._df = df
        return self._df

    def idf(self, term: str) -> float:
        return math.log((len(self.rows) + 1) / (self.df.get(term, 0) + 0.5))

    def rows_in(self, doc_id: str) -> np.ndarray:
        """The row positions of one document's passages (empty when it has none)."""
        if self._doc_rows is None:
            groups: dict[str, list[int]] = {}
            for i, r in enumerate(self.rows):
                groups.setdefault(r.doc_id, []).append(i)
            self._doc_rows = {d: np.asarray(ix, dtype=np.int64) for d, ix in groups.items()}
        return self._doc_rows.get(doc_id, np.zeros(0, dtype=np.int64))

    def rows_of(self, doc_ids: set[str]) -> np.ndarray:
        """A mask over rows: the passages of these documents."""
        mask = np.zeros(len(self.rows), dtype=bool)
        for d in doc_ids:
            mask[self.rows_in(d)] = True
        return mask

    @staticmethod
    def build(catalog: Catalog, collection: str) -> KeywordIndex:
        generation = catalog.generation(collection)
        rows = catalog.passages(collection)
        model = None
        if rows:
            model = bm25s.BM25()
            model.index([r.tokens for r in rows], show_progress=False)
        for r in rows:
            r.tokens = []  # not needed once indexed (see the module docstring)
        return KeywordIndex(rows, model, generation)

    def save(self, folder: Path) -> None:
        tmp = folder.with_name(f"{folder.name}.tmp-{os.getpid()}-{threading.get_ident()}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if self.model is not None:
            self.model.save(str(tmp / "bm25"))
        (tmp / "state.json").write_text(
            json.dumps({"generation": self.generation, "ids": [r.passage_id for r in self.rows]}), "utf-8"
        )
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)

    @staticmethod
    def load_or_build(catalog: Catalog, collection: str, folder: Path) -> KeywordIndex:
        """The saved index when it matches the catalog's generation, else a fresh build (then saved)."""
        generation = catalog.generation(collection)
        state_file = folder / "state.json"
        try:
            state = json.loads(state_file.read_text("utf-8"))
            if state["generation"] == generation:
                rows = catalog.passages(collection, tokens=False)
                if [r.passage_id for r in rows] == state["ids"]:
                    model = bm25s.BM25.load(str(folder / "bm25")) if rows else None
                    return KeywordIndex(rows, model, generation)
        except (OSError, ValueError, KeyError):
            pass
        index = KeywordIndex.build(catalog, collection)
        with contextlib.suppress(OSError):  # a read-only store still answers; rebuilt next time
            index.save(folder)
        return index

    def scores(self, tokens: list[str]) -> np.ndarray:
        if self.model is None or not tokens:
            return np.zeros(len(self.rows), dtype=np.float32)
        return np.asarray(self.model.get_scores(tokens), dtype=np.float32)

    def search(self, tokens: list[str], depth: int, allowed: np.ndarray | None = None) -> list[KeywordHit]:
        scores = self.scores(tokens)
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0)
        if not len(scores):
            return []
        depth = min(depth, len(scores))
        top = np.argpartition(-scores, depth - 1)[:depth]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [KeywordHit(int(i), float(scores[i])) for i in top if scores[i] > 0]
