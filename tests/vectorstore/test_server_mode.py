"""Server mode (issue 6): the vectors live in a `chroma run` server, the catalog and keyword index in `db`.

Ingest, ask, update and removal go through the server, by the CLI (with `SPEECHQA_CHROMA_URL` in its
environment) and in this process; a reader that was opened before a change sees it at once (one server,
one view, unlike the embedded store where each process keeps its own copy of the vector index).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.archives import CANTEEN_FUNDED, CANTEEN_Q, NOTICE, PARKING_Q, write
from tests.support.cli import run_cli
from tests.support.servers import chroma_run, free_port, serving

pytestmark = pytest.mark.slow



@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    from vectorstore.chroma_store import DenseStore

    path = tmp_path_factory.mktemp("chroma_server")
    argv, url, heartbeat = chroma_run(path, free_port())
    try:
        with serving(argv, heartbeat, log=path.parent / f"{path.name}.log"):
            yield url, path
    finally:
        DenseStore.forget_clients()


def cli(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    """`speechqa ARGS` with the server named only by the environment."""
    return run_cli(*args, env={"SPEECHQA_CHROMA_URL": url})


def server_view(url: str, collection: str = "default") -> dict[str, str]:
    """Passage id -> document id, straight from the server (not through our code)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    from vectorstore.chroma_store import chroma_name

    port = int(url.rsplit(":", 1)[1])
    client = chromadb.HttpClient(host="127.0.0.1", port=port, settings=ChromaSettings(anonymized_telemetry=False))
    col = client.get_collection(chroma_name(collection))
    got = col.get(include=["metadatas"])
    return {i: str(m["doc_id"]) for i, m in zip(got["ids"], got["metadatas"], strict=True)}


def cited(ans) -> str:  # noqa: ANN001
    return " ".join(c.text for c in ans.citations)


def test_ingest_ask_update_remove_through_a_chroma_server(tmp_path: Path, chroma_server: tuple[str, Path]) -> None:
    from bot.qa import QA
    from core.settings import Settings
    from vectorstore.archive import Archive

    url, server_path = chroma_server
    folder = tmp_path / "docs"
    write(folder, "notice.txt", NOTICE.format(fee="6"))
    other = write(folder, "other.txt", CANTEEN_FUNDED)
    db = tmp_path / "db"

    # ingest by the CLI, the server named only by the environment
    proc = cli("ingest", str(folder), "--db", str(db), "--json", url=url)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1])["indexed"] == 2
    assert not (db / "chroma").exists(), "vectors went to an embedded store, not to the server"

    settings = Settings(db=db, chroma_url=url)
    archive = Archive(settings)
    view = server_view(url)
    assert set(view.values()) == {"notice.txt", "other.txt"}
    assert sorted(view) == sorted(r.passage_id for r in archive.keyword().rows)

    qa = QA(settings, archive=archive)
    ans = qa.ask(PARKING_Q)
    assert ans.citations and ans.citations[0].doc_id == "notice.txt" and "每小时6元" in ans.citations[0].text

    # update by the CLI: the reader opened before sees the new figure in every mode, never the old one
    write(folder, "notice.txt", NOTICE.format(fee="9"))
    proc = cli("ingest", str(folder), "--db", str(db), "--json", url=url)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["indexed"] == 1 and summary["unchanged"] == 1
    for mode in ("hybrid", "keyword", "dense"):
        ans = qa.ask(PARKING_Q, mode=mode)  # type: ignore[arg-type]
        assert ans.citations and ans.citations[0].doc_id == "notice.txt", mode
        assert "每小时9元" in cited(ans) and "每小时6元" not in cited(ans), mode
    sha = archive.catalog.document(archive.collection, "notice.txt").sha256  # type: ignore[union-attr]
    got = archive.dense.collection.get(where={"doc_id": "notice.txt"}, include=["metadatas"])
    assert {m["sha256"] for m in got["metadatas"]} == {sha}

    # the CLI's own answer, through the server
    proc = cli("ask", PARKING_Q, "--db", str(db), "--json", url=url)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["citations"][0]["doc_id"] == "notice.txt" and "每小时9元" in out["citations"][0]["text"]

    # removal with --sync by the CLI
    assert "三十五万元" in cited(qa.ask(CANTEEN_Q))
    other.unlink()
    proc = cli("ingest", str(folder), "--db", str(db), "--sync", url=url)
    assert proc.returncode == 0, proc.stderr
    assert "已移除\tother.txt" in proc.stdout
    assert set(server_view(url).values()) == {"notice.txt"}
    for mode in ("hybrid", "keyword", "dense"):
        ans = qa.ask(CANTEEN_Q, mode=mode)  # type: ignore[arg-type]
        assert all(c.doc_id != "other.txt" for c in ans.citations), mode
    assert [d.doc_id for d in archive.documents()] == ["notice.txt"]

    # removal in this process
    assert archive.remove("notice.txt")
    archive.refresh_keyword()
    assert server_view(url) == {}
    assert archive.dense.count() == 0 and archive.documents() == []
    assert qa.ask(PARKING_Q).refused

    # nothing of this archive was ever written beside the catalog
    assert not (db / "chroma").exists()
    assert any(server_path.iterdir())


def test_two_archives_share_one_server_without_mixing(tmp_path: Path, chroma_server: tuple[str, Path]) -> None:
    from bot.qa import QA
    from core.settings import Settings
    from vectorstore.archive import Archive

    url, _ = chroma_server
    folder = tmp_path / "docs"
    write(folder, "notice.txt", NOTICE.format(fee="5"))
    city = Archive(Settings(db=tmp_path / "city", chroma_url=url, collection="市政府"))
    district = Archive(Settings(db=tmp_path / "district", chroma_url=url, collection="区政府"))
    assert city.index_paths([folder]).count("indexed") == 1
    assert district.documents() == [] and district.dense.count() == 0
    assert set(server_view(url, "市政府").values()) == {"notice.txt"}
    assert QA(city.settings, archive=city).ask(PARKING_Q).citations[0].doc_id == "notice.txt"
    assert QA(district.settings, archive=district).ask(PARKING_Q).refused
