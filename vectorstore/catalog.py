"""The catalog: an SQLite file beside the vectors that is the source of truth for what is indexed.

A document is visible to retrieval only once its row says `ok`; its passages' rows (offsets, section,
keyword tokens) are written in the same transaction. Vectors in Chroma whose document is not `ok` with
the same content hash are ignored, so a crash between the two stores never shows a half document.
"""

from __future__ import annotations

import contextlib
import errno
import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ingest.model import Document, Passage, ScanPage

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    collection TEXT NOT NULL, doc_id TEXT NOT NULL, sha256 TEXT NOT NULL, state TEXT NOT NULL,
    title TEXT, date TEXT, speaker TEXT, url TEXT, meeting TEXT, format TEXT, text TEXT,
    page_starts TEXT, n_passages INTEGER, indexed_at REAL, scans TEXT,
    PRIMARY KEY (collection, doc_id));
CREATE TABLE IF NOT EXISTS passages (
    collection TEXT NOT NULL, doc_id TEXT NOT NULL, idx INTEGER NOT NULL,
    start INTEGER, "end" INTEGER, section TEXT, page INTEGER, tokens TEXT,
    PRIMARY KEY (collection, doc_id, idx));
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS embed_cache (model TEXT NOT NULL, key TEXT NOT NULL, vec BLOB NOT NULL,
    PRIMARY KEY (model, key));
"""


@dataclass
class DocRow:
    doc_id: str
    sha256: str
    state: str
    title: str
    date: str
    speaker: str
    url: str
    meeting: str
    format: str
    n_passages: int
    indexed_at: float

    def to_dict(self) -> dict[str, object]:
        return {
            "doc_id": self.doc_id, "title": self.title, "date": self.date, "speaker": self.speaker,
            "meeting": self.meeting, "url": self.url, "format": self.format, "passages": self.n_passages,
            "sha256": self.sha256, "indexed_at": self.indexed_at,
        }


@dataclass
class PassageRow:
    doc_id: str
    idx: int
    start: int
    end: int
    section: str
    page: int
    tokens: list[str]

    @property
    def passage_id(self) -> str:
        return f"{self.doc_id}#{self.idx}"


_DOC_COLS = "doc_id, sha256, state, title, date, speaker, url, meeting, format, n_passages, indexed_at"


class StoreError(OSError):
    """The index (catalog or vectors) cannot be opened or written: disk full, read-only, damaged. The message
    is Chinese and meant for users; being an OSError, ingest reports it per file instead of stopping."""


def describe_store_error(exc: BaseException, where: object) -> str:
    """A Chinese message for a storage failure, by its cause."""
    text = str(exc).lower()
    code = getattr(exc, "errno", None)
    if code == errno.ENOSPC or "full" in text:
        return f"磁盘空间已满，无法写入索引（{where}）。请清理磁盘空间后重新导入，原有索引未受影响。"
    if code in (errno.EROFS, errno.EACCES, errno.EPERM) or "readonly" in text or "read-only" in text:
        return f"索引目录只读，无法写入（{where}）。请检查目录权限后重新导入，原有索引未受影响。"
    if "unable to open" in text or "disk i/o" in text:
        return f"无法打开或写入索引（{where}）：目录可能只读或磁盘已满。"
    return f"索引读写失败（{where}）：{exc}"


class Catalog:
    """Thread-safe access to the catalog file (one connection, serialised)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._con = sqlite3.connect(str(path), check_same_thread=False, timeout=30.0, isolation_level=None)
            self._con.execute("PRAGMA journal_mode=WAL")
            self._con.execute("PRAGMA synchronous=NORMAL")
            self._con.executescript(_SCHEMA)
            self._add_missing_columns()
        except (sqlite3.OperationalError, OSError) as exc:
            raise StoreError(describe_store_error(exc, path)) from exc

    def _add_missing_columns(self) -> None:
        """A catalog written before a column existed gets it (empty for the documents it holds)."""
        have = {r[1] for r in self._con.execute("PRAGMA table_info(documents)")}
        if "scans" not in have:
            self._con.execute("ALTER TABLE documents ADD COLUMN scans TEXT")

    def close(self) -> None:
        with self._lock:
            self._con.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction. Any failure, the COMMIT's included (a full disk fails there), rolls it
        back: the connection never stays inside a half-done transaction whose rows it alone would see."""
        with self._lock:
            try:
                self._con.execute("BEGIN IMMEDIATE")
                try:
                    yield self._con
                    self._con.execute("COMMIT")
                except BaseException:
                    if self._con.in_transaction:
                        with contextlib.suppress(sqlite3.Error):
                            self._con.execute("ROLLBACK")
                    raise
            except sqlite3.OperationalError as exc:
                raise StoreError(describe_store_error(exc, self.path)) from exc

    # --- generation: bumped by every change, so readers know when to reload ---
    def generation(self, collection: str) -> int:
        with self._lock:
            row = self._con.execute("SELECT value FROM meta WHERE key=?", (f"gen:{collection}",)).fetchone()
        return int(row[0]) if row else 0

    def _bump(self, con: sqlite3.Connection, collection: str) -> None:
        con.execute(
            "INSERT INTO meta(key, value) VALUES (?, '1') "
            "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1",
            (f"gen:{collection}",),
        )

    def get_meta(self, key: str) -> str | None:
        with self._lock:
            row = self._con.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self._tx() as con:
            con.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    # --- documents ---
    def collections(self) -> list[str]:
        with self._lock:
            rows = self._con.execute("SELECT DISTINCT collection FROM documents ORDER BY 1").fetchall()
        return [r[0] for r in rows]

    def documents(self, collection: str, state: str | None = "ok") -> list[DocRow]:
        sql = f"SELECT {_DOC_COLS} FROM documents WHERE collection=?"
        args: tuple[object, ...] = (collection,)
        if state is not None:
            sql += " AND state=?"
            args += (state,)
        with self._lock:
            rows = self._con.execute(sql + " ORDER BY doc_id", args).fetchall()
        return [DocRow(*r) for r in rows]

    def document(self, collection: str, doc_id: str) -> DocRow | None:
        with self._lock:
            r = self._con.execute(
                f"SELECT {_DOC_COLS} FROM documents WHERE collection=? AND doc_id=?", (collection, doc_id)
            ).fetchone()
        return DocRow(*r) if r else None

    def full_document(self, collection: str, doc_id: str) -> Document | None:
        with self._lock:
            r = self._con.execute(
                "SELECT doc_id, text, title, date, speaker, url, meeting, format, sha256, page_starts, scans "
                "FROM documents WHERE collection=? AND doc_id=? AND state='ok'",
                (collection, doc_id),
            ).fetchone()
        if not r:
            return None
        return Document(
            doc_id=r[0], text=r[1], title=r[2], date=r[3], speaker=r[4], url=r[5], meeting=r[6],
            format=r[7], sha256=r[8], page_starts=json.loads(r[9] or "[]"),
            scans=[ScanPage.from_dict(x) for x in json.loads(r[10] or "[]")],
        )

    def snapshot(self, collection: str) -> tuple[list[DocRow], dict[str, str]]:
        """Every visible document's row and cleaned text, read in one statement (one consistent state)."""
        with self._lock:
            rows = self._con.execute(
                f"SELECT {_DOC_COLS}, text FROM documents WHERE collection=? AND state='ok' ORDER BY doc_id",
                (collection,),
            ).fetchall()
        return [DocRow(*r[:-1]) for r in rows], {r[0]: r[-1] for r in rows}

    def texts(self, collection: str) -> dict[str, str]:
        with self._lock:
            rows = self._con.execute(
                "SELECT doc_id, text FROM documents WHERE collection=? AND state='ok'", (collection,)
            ).fetchall()
        return dict(rows)

    def mark_pending(self, collection: str, doc: Document) -> None:
        """Step 1 of replacing a document: from now on it is invisible until `commit_document`."""
        with self._tx() as con:
            con.execute(
                "INSERT INTO documents(collection, doc_id, sha256, state, title, n_passages, indexed_at) "
                "VALUES (?, ?, ?, 'pending', ?, 0, ?) "
                "ON CONFLICT(collection, doc_id) DO UPDATE SET state='pending', sha256=excluded.sha256",
                (collection, doc.doc_id, doc.sha256, doc.title, time.time()),
            )
            self._bump(con, collection)

    def commit_document(
        self, collection: str, doc: Document, passages: list[Passage], tokens: list[list[str]]
    ) -> None:
        """Step 3: the passages and the document row become visible together."""
        with self._tx() as con:
            con.execute("DELETE FROM passages WHERE collection=? AND doc_id=?", (collection, doc.doc_id))
            con.executemany(
                'INSERT INTO passages(collection, doc_id, idx, start, "end", section, page, tokens) '
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (collection, p.doc_id, p.index, p.start, p.end, p.section, p.page, " ".join(t))
                    for p, t in zip(passages, tokens, strict=True)
                ],
            )
            con.execute(
                "INSERT OR REPLACE INTO documents(collection, doc_id, sha256, state, title, date, speaker, url, "
                "meeting, format, text, page_starts, n_passages, indexed_at, scans) "
                "VALUES (?, ?, ?, 'ok', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    collection, doc.doc_id, doc.sha256, doc.title, doc.date, doc.speaker, doc.url,
                    doc.meeting, doc.format, doc.text, json.dumps(doc.page_starts), len(passages), time.time(),
                    json.dumps([scan.to_dict() for scan in doc.scans], ensure_ascii=False) if doc.scans else None,
                ),
            )
            self._bump(con, collection)

    def restore_document(self, collection: str, doc_id: str, sha256: str) -> None:
        """Undo `mark_pending` when nothing else was changed yet: the previous version is visible again."""
        with self._tx() as con:
            con.execute(
                "UPDATE documents SET state='ok', sha256=? WHERE collection=? AND doc_id=?", (sha256, collection, doc_id)
            )
            self._bump(con, collection)

    def remove_document(self, collection: str, doc_id: str) -> None:
        with self._tx() as con:
            con.execute("DELETE FROM passages WHERE collection=? AND doc_id=?", (collection, doc_id))
            con.execute("DELETE FROM documents WHERE collection=? AND doc_id=?", (collection, doc_id))
            self._bump(con, collection)

    def passages(self, collection: str, tokens: bool = True) -> list[PassageRow]:
        """All passages of `ok` documents, in a stable order (the keyword index's row order); without their
        keyword tokens (`tokens=False`: an empty list each) for readers, who need only offsets."""
        with self._lock:
            rows = self._con.execute(
                f'SELECT p.doc_id, p.idx, p.start, p."end", p.section, p.page, {"p.tokens" if tokens else "NULL"} '
                "FROM passages p "
                "JOIN documents d ON d.collection=p.collection AND d.doc_id=p.doc_id "
                "WHERE p.collection=? AND d.state='ok' ORDER BY p.doc_id, p.idx",
                (collection,),
            ).fetchall()
        return [PassageRow(r[0], r[1], r[2], r[3], r[4] or "", r[5] or 0, (r[6] or "").split(" ") if tokens else [])
                for r in rows]

    # --- embedding cache: identical passage text is never embedded twice by the same model ---
    def cached_vectors(self, model: str, keys: Iterable[str]) -> dict[str, np.ndarray]:
        keys = list(keys)
        out: dict[str, np.ndarray] = {}
        with self._lock:
            for i in range(0, len(keys), 500):
                chunk = keys[i : i + 500]
                marks = ",".join("?" * len(chunk))
                for k, blob in self._con.execute(
                    f"SELECT key, vec FROM embed_cache WHERE model=? AND key IN ({marks})", (model, *chunk)
                ):
                    out[k] = np.frombuffer(blob, dtype=np.float32)
        return out

    def store_vectors(self, model: str, items: dict[str, np.ndarray]) -> None:
        with self._tx() as con:
            con.executemany(
                "INSERT OR REPLACE INTO embed_cache(model, key, vec) VALUES (?, ?, ?)",
                [(model, k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items.items()],
            )
