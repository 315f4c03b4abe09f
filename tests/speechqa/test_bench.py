"""The replicas `speechqa bench --scale` writes: the perturbation and the vectors, on a tiny archive."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from ingest import split_document
from ingest.model import Document
from speechqa.scale import (
    MAX_REPLICA,
    PAIRS,
    ReplicaMap,
    add_noise,
    build_replicas,
    replica_document,
    sigma_for_cosine,
)
from tests.support.archives import write

SAMPLE = ("2018年政府工作报告\n一、过去一年工作回顾\n国内生产总值增长６．９％，达到82.7万亿元；发展经济，建设社会，"
          "改革开放取得新成就。（二）第十九次全国代表大会召开！\n\t今年目标：新增就业1100万人以上、城镇调查失业率5.5%左右。")
_KEPT = re.compile(r"[^\d０-９" + "".join(a + b for a, b in PAIRS) + "]")


def test_mapping_is_invertible_length_preserving_and_keeps_punctuation() -> None:
    maps = [ReplicaMap.of(r) for r in range(1, MAX_REPLICA + 1)]
    assert len({tuple(sorted(m.forward.items())) for m in maps}) == MAX_REPLICA  # every replica differs
    for m in maps:
        out = m.apply(SAMPLE)
        assert len(out) == len(SAMPLE) and m.invert(out) == SAMPLE and out != SAMPLE
        for a, b in zip(SAMPLE, out, strict=True):
            if _KEPT.match(a):  # punctuation, whitespace, Chinese numerals, other Han characters: untouched
                assert a == b
            elif a.isdigit():
                assert b.isdigit() and b != a and (a.isascii() == b.isascii())
        assert not out.startswith("2018")  # years differ
    for bad in (0, MAX_REPLICA + 1):
        with pytest.raises(ValueError):
            ReplicaMap.of(bad)


def test_replica_passages_have_the_original_boundaries_and_invert_to_its_views() -> None:
    from vectorstore.archive import passage_view

    text = "\n".join([SAMPLE] * 12)
    doc = Document(doc_id="gwr_2018.txt", text=text, title="2018年政府工作报告", date="2018-03-05",
                   meeting="十三届全国人大一次会议", sha256="k")
    orig = split_document(doc, 250, 50)
    assert len(orig) > 3
    for r in (1, 9, 13, 27):
        m = ReplicaMap.of(r)
        rdoc = replica_document(doc, m)
        assert rdoc.doc_id == f"replica-{r}/gwr_2018.txt" and rdoc.sha256 != doc.sha256
        assert rdoc.date == m.apply("2018-03-05") and rdoc.date != doc.date  # the year moves with the text
        reps = split_document(rdoc, 250, 50)
        assert [(p.start, p.end) for p in reps] == [(p.start, p.end) for p in orig]
        assert [m.invert(passage_view(rdoc, p)) for p in reps] == [passage_view(doc, p) for p in orig]


def test_noise_reaches_the_calibrated_cosine() -> None:
    rng = np.random.default_rng(1)
    v = rng.normal(size=(500, 384)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    for target in (0.95, 0.98):
        out = add_noise(v, sigma_for_cosine(target, 384), rng)
        cos = np.sum(out * v, axis=1)
        assert np.allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
        assert abs(float(cos.mean()) - target) < 0.005 and float(cos.max()) < 0.999
    assert sigma_for_cosine(1.0, 384) == 0.0


REPORT = """{year}年临江区人民政府工作报告
一、过去一年工作回顾
全区地区生产总值增长{growth}%，新建公共停车泊位{spaces}个，发展经济，建设社会，改革开放。
二、今年主要任务
推进城市更新，加强社区养老服务，全年新增就业岗位{jobs}个。
"""


@pytest.mark.slow
def test_replicas_are_written_through_the_archive_and_searchable(tmp_path: Path, make_settings) -> None:  # noqa: ANN001
    from bot.qa import QA
    from vectorstore.archive import Archive

    folder = tmp_path / "docs"
    write(folder, "report_2016.txt", REPORT.format(year=2016, growth="7.1", spaces="1200", jobs="8000"))
    write(folder, "notice.txt", "关于社区食堂建设的通知\n全区年内建成社区食堂20家，由区民政局负责组织实施。\n")
    settings = make_settings()
    archive = Archive(settings)
    assert archive.index_paths([folder]).count("indexed") == 2
    n_orig = len(archive.keyword().rows)

    report = build_replicas(archive, 3, calibration=4)
    assert report.documents == 4 and report.real_embeddings == 0 and report.calibration_embeddings == 4
    assert 0.8 < report.cosine < 1.0 and report.sigma > 0
    assert report.total_documents == 6 and report.total_passages == 3 * n_orig
    assert archive.dense.count() == 3 * n_orig
    ids = {d.doc_id for d in archive.documents()}
    assert {"replica-1/report_2016.txt", "replica-2/notice.txt"} <= ids

    # replica vectors: close to the original's, never equal
    got = archive.dense.collection.get(ids=["report_2016.txt#0", "replica-1/report_2016.txt#0",
                                            "replica-2/report_2016.txt#0"], include=["embeddings"])
    vec = dict(zip(got["ids"], np.asarray(got["embeddings"]), strict=True))
    for r in (1, 2):
        cos = float(np.dot(vec["report_2016.txt#0"], vec[f"replica-{r}/report_2016.txt#0"]))
        assert 0.9 < cos < 0.9999

    # searchable by their own words and years: replica 1 of the 2016 report says 3127 and 2311
    qa = QA(settings, archive=archive)
    ans = qa.ask("3127年全区新建公共停车泊位多少个？")
    assert not ans.refused and ans.citations[0].doc_id == "replica-1/report_2016.txt", ans.citations
    assert "2311个" in ans.citations[0].text
    ans = qa.ask("2016年全区新建公共停车泊位多少个？")
    assert ans.citations[0].doc_id == "report_2016.txt"

    # what readers use at 160k passages: statistics from the BM25 matrix (no tokens held), exact search
    # over a few documents' vectors instead of Chroma's metadata filter
    kw = archive.keyword()
    assert all(r.tokens == [] for r in kw.rows)
    want: Counter[str] = Counter()
    for row in archive.catalog.passages(archive.collection):
        want.update(set(row.tokens))
    assert kw.df == dict(want)
    shas = {d.doc_id: d.sha256 for d in archive.documents()}
    docs = {"report_2016.txt", "replica-2/notice.txt", "replica-1/report_2016.txt"}
    wanted = {d: (shas[d], [kw.rows[i].passage_id for i in kw.rows_in(d)]) for d in docs}
    q = archive.embedder.embed_query("新建公共停车泊位")
    for _ in range(2):  # fetched, then cached
        exact = archive.dense.query_docs(q, wanted, 4)
        chroma = archive.dense.query(q, 4, {"doc_id": {"$in": sorted(docs)}})
        assert [h.passage_id for h in exact] == [h.passage_id for h in chroma]
        assert all(abs(a.similarity - b.similarity) < 1e-4 for a, b in zip(exact, chroma, strict=True))
    stale = {"report_2016.txt": ("another content key", wanted["report_2016.txt"][1])}
    assert archive.dense.query_docs(q, stale, 4) == []  # vectors of another version are never served

    # an interrupted or repeated build keeps what is there
    again = build_replicas(archive, 3, noise=0.01)
    assert again.skipped == 4 and again.documents == 0


class _FakeEmbedder:
    name, dim = "fake", 8

    def __init__(self) -> None:
        self.calls: list[int] = []

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        self.calls.append(len(texts))
        v = np.random.default_rng(len(self.calls)).normal(size=(len(texts), self.dim)).astype(np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_passages([text])[0]


def test_ingest_and_raw_embedder_take_turns(tmp_path: Path, make_settings) -> None:  # noqa: ANN001
    from speechqa.bench import ingest_beside_raw, pick_subset
    from vectorstore.archive import Archive

    corpus = tmp_path / "corpus"
    for i in range(6):
        body = "".join(REPORT.format(year=2010 + i, growth=f"{i}.{j}", spaces=f"{i}0{j}", jobs=f"{j}000") for j in range(8))
        write(corpus, f"r{i}.txt", body)
    settings = make_settings(embed_batch=2)
    whole = pick_subset(corpus, settings, target=10**6, dest=tmp_path / "all")
    assert whole.files == 6 and whole.step == 1
    sub = pick_subset(corpus, settings, target=len(whole.views) // 2, dest=tmp_path / "subset")
    assert sub.files == 3 and sub.step == 2 and len(sub.views) >= 9
    views = list(dict.fromkeys(sub.views))
    fake = _FakeEmbedder()
    archive = Archive(settings, embedder=fake)
    both = ingest_beside_raw(archive, sub.folder, fake, views, 2, len(sub.views))
    assert both.report.count("indexed") == 3 and both.report.chunks == len(sub.views)
    assert both.raw_passages == len(views) and both.turns >= 2  # raw turns between the files
    assert both.ingest_s > 0 and both.raw_s > 0
