"""Incremental indexing: unchanged files are skipped, changed ones replaced, removed ones gone everywhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.archives import CANTEEN, NOTICE, write

pytestmark = pytest.mark.slow


def _archive(settings):  # noqa: ANN001, ANN202
    from vectorstore.archive import Archive

    return Archive(settings)


def test_rerun_skips_unchanged_files_without_embedding(tmp_path: Path, make_settings) -> None:  # noqa: ANN001
    folder = tmp_path / "docs"
    write(folder, "notice.txt", NOTICE.format(fee="6"))
    write(folder, "other.txt", CANTEEN)
    archive = _archive(make_settings())
    first = archive.index_paths([folder])
    assert first.count("indexed") == 2
    calls = []
    inner = archive.embedder.embed_passages
    archive.embedder.embed_passages = lambda texts: calls.append(texts) or inner(texts)  # type: ignore[method-assign]
    second = archive.index_paths([folder])
    assert second.count("unchanged") == 2 and second.count("indexed") == 0
    assert calls == []


def test_changed_figure_replaces_the_old_one_everywhere(tmp_path: Path, make_settings) -> None:  # noqa: ANN001
    from bot.qa import QA

    folder = tmp_path / "docs"
    write(folder, "notice.txt", NOTICE.format(fee="6"))
    write(folder, "other.txt", CANTEEN)
    settings = make_settings()
    archive = _archive(settings)
    archive.index_paths([folder])
    qa = QA(settings, archive=archive)
    assert "每小时6元" in qa.ask("路内停车收费标准调整为每小时多少元？").citations[0].text

    write(folder, "notice.txt", NOTICE.format(fee="9"))
    report = archive.index_paths([folder])
    assert report.count("indexed") == 1 and report.count("unchanged") == 1
    for mode in ("hybrid", "keyword", "dense"):
        ans = qa.ask("路内停车收费标准调整为每小时多少元？", mode=mode)  # type: ignore[arg-type]
        texts = " ".join(c.text for c in ans.citations)
        assert "每小时9元" in texts and "每小时6元" not in texts, mode
    assert archive.dense.count() == len(archive.keyword().rows)


def test_removed_document_is_never_cited_again(tmp_path: Path, make_settings) -> None:  # noqa: ANN001
    from bot.qa import QA

    folder = tmp_path / "docs"
    notice = write(folder, "notice.txt", NOTICE.format(fee="6"))
    write(folder, "other.txt", CANTEEN)
    settings = make_settings()
    archive = _archive(settings)
    archive.index_paths([folder])
    notice.unlink()
    report = archive.index_paths([folder], sync=True)
    assert report.count("removed") == 1
    qa = QA(settings, archive=archive)
    for mode in ("hybrid", "keyword", "dense"):
        ans = qa.ask("路内停车收费标准调整为每小时多少元？", mode=mode)  # type: ignore[arg-type]
        assert all(c.doc_id != "notice.txt" for c in ans.citations), mode
    assert [d.doc_id for d in archive.documents()] == ["other.txt"]
    assert archive.dense.doc_ids() == {"other.txt"}


def test_interrupted_write_is_invisible_and_repaired(tmp_path: Path, make_settings) -> None:  # noqa: ANN001
    """A crash between 'pending' and 'ok' leaves vectors no reader trusts; the next run cleans them up."""
    from bot.qa import QA
    from ingest import load_document, split_document

    folder = tmp_path / "docs"
    write(folder, "other.txt", CANTEEN)
    path = write(folder, "notice.txt", NOTICE.format(fee="6"))
    settings = make_settings()
    archive = _archive(settings)
    archive.index_paths([folder / "other.txt"])
    # Simulate a crash after the vectors were written but before the catalog commit.
    doc = load_document(path, "notice.txt")
    doc.sha256 = archive.content_key(doc.sha256)
    passages = split_document(doc, settings.chunk_size, settings.chunk_overlap)
    archive.catalog.mark_pending(archive.collection, doc)
    vecs = archive.embedder.embed_passages([p.text for p in passages])
    archive.dense.add([p.passage_id for p in passages], vecs,
                      [{"doc_id": doc.doc_id, "idx": p.index, "sha256": doc.sha256} for p in passages])
    qa = QA(settings, archive=archive)
    ans = qa.ask("路内停车收费标准调整为每小时多少元？", mode="dense")
    assert all(c.doc_id != "notice.txt" for c in ans.citations)
    report = archive.index_paths([folder])
    assert report.count("indexed") == 1 and report.count("unchanged") == 1
    assert archive.dense.count() == len(archive.keyword().rows)
    assert qa.ask("路内停车收费标准调整为每小时多少元？").citations[0].doc_id == "notice.txt"


def test_collections_are_separate(tmp_path: Path, make_settings) -> None:  # noqa: ANN001
    folder = tmp_path / "docs"
    write(folder, "notice.txt", NOTICE.format(fee="6"))
    city = _archive(make_settings(collection="市政府"))
    district = _archive(make_settings(collection="区政府"))
    city.index_paths([folder])
    assert [d.doc_id for d in city.documents()] == ["notice.txt"]
    assert district.documents() == [] and district.dense.count() == 0


def test_dense_search_breadth_is_the_setting_for_new_and_older_stores(tmp_path: Path, make_settings) -> None:  # noqa: ANN001
    """Chroma's default HNSW breadth (100) misses true nearest passages; a store made with it (an older
    speechqa, or Chroma's default) is widened when opened, and a new one is made with the setting."""
    import chromadb

    from tests.support.fakes import HashEmbedder
    from vectorstore.chroma_store import DenseStore, chroma_name
    from vectorstore.embeddings import SpeechqaEmbeddingFunction

    settings = make_settings()
    older = chromadb.PersistentClient(path=str(settings.db / "chroma"))
    older.create_collection(chroma_name("old"), metadata={"hnsw:space": "cosine"},
                            embedding_function=SpeechqaEmbeddingFunction(HashEmbedder.name))  # type: ignore[arg-type]
    assert older.get_collection(chroma_name("old")).configuration["hnsw"]["ef_search"] == 100
    DenseStore.forget_clients()
    reopened = DenseStore(settings, "old", HashEmbedder())
    assert reopened.collection.configuration["hnsw"]["ef_search"] == settings.hnsw_ef_search == 500
    fresh = DenseStore(settings.model_copy(update={"hnsw_ef_search": 300}), "new", HashEmbedder())
    assert fresh.collection.configuration["hnsw"]["ef_search"] == 300
