"""discover: recursion, doc_ids, extensions, hidden files, sorting."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest import IngestError, discover
from tests.support.archives import write


def test_folders_and_files(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    for name in ["b.TXT", "a.md", "sub/c.html", "sub/deeper/d.HTM", "e.csv", "f.docx", "g.pdf", "h.markdown"]:
        write(root, name, "正文。")
    for name in [
        "notes.json",
        "image.gif",
        ".hidden.txt",
        ".git/config.txt",
        "sub/.cache/x.txt",
        "~$f.docx",
        "README",
    ]:
        write(root, name, "正文。")
    lone = write(tmp_path, "elsewhere/lone.txt", "正文。")
    result = discover([root, lone])
    ids = [doc_id for _, doc_id in result]
    assert ids == sorted(ids)
    assert ids == [
        "a.md",
        "b.TXT",
        "e.csv",
        "f.docx",
        "g.pdf",
        "h.markdown",
        "lone.txt",
        "sub/c.html",
        "sub/deeper/d.HTM",
    ]
    paths = dict((doc_id, path) for path, doc_id in result)
    assert paths["sub/deeper/d.HTM"] == root / "sub" / "deeper" / "d.HTM"
    assert paths["lone.txt"] == lone


def test_unsupported_lone_file_is_skipped(tmp_path: Path) -> None:
    assert discover([write(tmp_path, "data.json", "正文。")]) == []


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="找不到"):
        discover([tmp_path / "nope"])


def test_duplicates_collapse(tmp_path: Path) -> None:
    path = write(tmp_path, "a.txt", "正文。")
    assert discover([path, path]) == [(path, "a.txt")]


def test_corpus_discovery(corpus_dir: Path) -> None:
    items = discover([corpus_dir])
    ids = [doc_id for _, doc_id in items]
    assert "seed_000.txt" in ids and "prov2026_beijing.csv" in ids
    assert sum(i.endswith(".html") for i in ids) == 106
