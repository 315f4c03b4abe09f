"""One archive (collection): the catalog, the dense vectors and the keyword index kept in step.

Write order for a document, chosen so that a crash at any point leaves nothing half-visible:
catalog row -> `pending` (invisible); delete old vectors; add new vectors; catalog passages + row -> `ok`
in one transaction; keyword index rebuilt from the catalog. Readers only trust vectors whose document is
`ok` with the same content key.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from core.settings import Settings
from ingest import discover, load_document, split_document
from ingest.discover import EXTENSIONS
from ingest.model import Document, IngestError, Passage
from ingest.ocr import OcrOptions, PageFn
from vectorstore.catalog import Catalog, DocRow
from vectorstore.chroma_store import DenseStore
from vectorstore.embeddings import Embedder, get_embedder
from vectorstore.keyword import KeywordIndex, tokenize

SCANNABLE = frozenset(ext for ext, kind in EXTENSIONS.items() if kind in ("pdf", "ofd", "image"))
INDEX_VERSION = "2"  # 2: long source links are chrome (ingest.chrome). Bump when what is embedded or tokenized for a passage changes


def passage_head(doc: Document, passage: Passage) -> str:
    """The context put before a passage's text when it is embedded and keyword-indexed."""
    return doc.title if not passage.section or passage.section in doc.title else f"{doc.title} {passage.section}"


def passage_view(doc: Document, passage: Passage) -> str:
    """What is embedded for a passage: its title and section give it its context."""
    return f"{passage_head(doc, passage)}\n{passage.text}"


def passage_tokens(doc: Document, passages: list[Passage]) -> list[list[str]]:
    """Keyword tokens of each passage's view; a head shared by many passages is tokenized once."""
    heads: dict[str, list[str]] = {}
    out = []
    for p in passages:
        head = passage_head(doc, p)
        if head not in heads:
            heads[head] = tokenize(head)
        out.append(heads[head] + tokenize(p.text))
    return out


@dataclass
class FileResult:
    path: str
    doc_id: str
    status: str  # indexed | unchanged | failed | removed
    passages: int = 0
    error: str = ""


@dataclass
class IngestReport:
    results: list[FileResult] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def failed(self) -> list[FileResult]:
        return [r for r in self.results if r.status == "failed"]

    @property
    def chunks(self) -> int:
        return sum(r.passages for r in self.results if r.status == "indexed")

    def summary(self) -> dict[str, object]:
        return {
            "indexed": self.count("indexed"),
            "unchanged": self.count("unchanged"),
            "removed": self.count("removed"),
            "failed": [{"path": r.path, "error": r.error} for r in self.failed],
            "chunks": self.chunks,
            "seconds": round(self.seconds, 2),
        }


@dataclass
class Progress:
    files_done: int
    files_total: int
    passages_done: int
    current: str
    elapsed: float
    pages_done: int = 0  # OCR of the current file: pages recognised so far …
    pages_total: int = 0  # … of the pages it has to recognise (0: no OCR under way)

    @property
    def fraction(self) -> float:
        """How much of the run is done, counting the current file's recognised pages."""
        part = self.pages_done / self.pages_total if self.pages_total else 0.0
        return min(1.0, (self.files_done + part) / max(self.files_total, 1))

    @property
    def eta(self) -> float | None:
        if not self.files_done or self.files_done >= self.files_total:
            return None
        return self.elapsed / self.files_done * (self.files_total - self.files_done)


ProgressFn = Callable[[Progress], None]


def _page_progress(progress: ProgressFn, at: Progress, t0: float) -> PageFn:
    """OCR's per-page callback for the file `at` stands at: the run's progress with the pages recognised."""

    def on_page(done: int, total: int) -> None:
        progress(replace(at, elapsed=time.perf_counter() - t0, pages_done=done, pages_total=total))

    return on_page


class Archive:
    """Everything stored for one collection. Safe to share between threads of one process."""

    def __init__(self, settings: Settings, collection: str | None = None, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.collection = collection or settings.collection
        self.embedder = embedder or get_embedder(settings)
        # Opened on first use: a store that cannot be opened (a Chroma server that is down, a full or
        # read-only disk) fails the operation that needs it, with a clear message, not the constructor.
        self._catalog: Catalog | None = None
        self._dense: DenseStore | None = None
        self._open_lock = threading.Lock()
        self._keyword: KeywordIndex | None = None
        self._keyword_lock = threading.Lock()
        self._write_lock = threading.Lock()

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            with self._open_lock:
                if self._catalog is None:
                    self._catalog = Catalog(self.settings.db / "catalog.sqlite3")
        return self._catalog

    @property
    def dense(self) -> DenseStore:
        if self._dense is None:
            with self._open_lock:
                if self._dense is None:
                    self._dense = DenseStore(self.settings, self.collection, self.embedder)
        return self._dense

    def close(self) -> None:
        """Close the catalog now (its last connection checkpoints and removes the WAL file), rather than
        whenever the garbage collector gets to it: the folder is then whole on disk, safe to copy."""
        with self._open_lock:
            if self._catalog is not None:
                self._catalog.close()
                self._catalog = None

    # --- reading ---
    @property
    def keyword_folder(self) -> Path:
        return self.settings.db / "keyword" / hashlib.sha1(self.collection.encode("utf-8")).hexdigest()[:16]

    def keyword(self) -> KeywordIndex:
        """The keyword index as of the catalog's current generation (reloaded when another writer changed it)."""
        gen = self.catalog.generation(self.collection)
        with self._keyword_lock:
            if self._keyword is None or self._keyword.generation != gen:
                if self._dense is not None:  # the catalog moved, maybe by another process: the vectors follow
                    self._dense.catch_up()
                self._keyword = KeywordIndex.load_or_build(self.catalog, self.collection, self.keyword_folder)
            return self._keyword

    @property
    def ocr_cache(self) -> Path:
        """Where OCR results and the scanned page images they were read on are kept (shared by the archives
        of one store: they are keyed by the images' pixels)."""
        return self.settings.db / "ocr-cache"

    def documents(self) -> list[DocRow]:
        return self.catalog.documents(self.collection)

    def document(self, doc_id: str) -> Document | None:
        return self.catalog.full_document(self.collection, doc_id)

    # --- writing ---
    def content_key(self, raw_sha: str, name: str = "") -> str:
        """A document's key: its bytes plus everything that decides its passages and vectors; for a file
        that may hold scanned pages (`name`'s extension: pdf, ofd, images), the OCR engine too, so that
        turning OCR on re-reads the scans it skipped."""
        s = self.settings
        config = f"{INDEX_VERSION}|{s.chunk_size}|{s.chunk_overlap}|{self.embedder.name}"
        if Path(name).suffix.lower() in SCANNABLE:
            config += f"|ocr={s.ocr}"
        return hashlib.sha256(f"{raw_sha}|{config}".encode()).hexdigest()

    def _embed(self, texts: list[str]) -> np.ndarray:
        keys = [hashlib.sha256(t.encode("utf-8")).hexdigest() for t in texts]
        cached = self.catalog.cached_vectors(self.embedder.name, keys)
        missing = [i for i, k in enumerate(keys) if k not in cached]
        fresh: dict[str, np.ndarray] = {}
        step = max(1, self.settings.embed_batch)
        # longest first, so each batch holds texts of similar length
        missing.sort(key=lambda i: -len(texts[i]))
        for b in range(0, len(missing), step):
            idx = missing[b : b + step]
            vecs = self.embedder.embed_passages([texts[i] for i in idx])
            for i, v in zip(idx, vecs, strict=True):
                fresh[keys[i]] = v
        if fresh:
            self.catalog.store_vectors(self.embedder.name, fresh)
        cached.update(fresh)
        return np.stack([cached[k] for k in keys]) if keys else np.zeros((0, self.embedder.dim), np.float32)

    def write_document(self, doc: Document, passages: list[Passage], tokens: list[list[str]], vectors: np.ndarray,
                       previous: DocRow | None = None) -> None:
        """Store one document whole (catalog, vectors, keyword rows) or leave it invisible: the crash-safe
        write protocol. `previous` is the catalog's row for `doc.doc_id` before this write, if any. One
        writer at a time per archive."""
        with self._write_lock:
            self.catalog.mark_pending(self.collection, doc)
            try:
                self.dense.delete_document(doc.doc_id)
            except Exception:
                # Nothing changed in the vectors: the previous version (if it was whole) is visible again.
                with contextlib.suppress(Exception):
                    if previous is not None and previous.state == "ok":
                        self.catalog.restore_document(self.collection, doc.doc_id, previous.sha256)
                    else:
                        self.catalog.remove_document(self.collection, doc.doc_id)
                raise
            # From here a failure leaves the document pending (invisible) until the next run repairs it.
            self.dense.add(
                ids=[p.passage_id for p in passages],
                vectors=vectors,
                metadatas=[
                    {"doc_id": doc.doc_id, "idx": p.index, "sha256": doc.sha256, "start": p.start, "end": p.end}
                    for p in passages
                ],
            )
            self.catalog.commit_document(self.collection, doc, passages, tokens)

    def recover(self) -> int:
        """Undo what an interrupted run left: pending rows and vectors of unknown documents."""
        fixed = 0
        ok = {d.doc_id for d in self.catalog.documents(self.collection, state="ok")}
        for row in self.catalog.documents(self.collection, state="pending"):
            self.dense.delete_document(row.doc_id)
            self.catalog.remove_document(self.collection, row.doc_id)
            fixed += 1
        for doc_id in self.dense.doc_ids() - ok:
            self.dense.delete_document(doc_id)
            fixed += 1
        return fixed

    def _unchanged(self, path: Path, doc_id: str) -> FileResult | None:
        """An unchanged file is recognised from its bytes' hash alone, without parsing it."""
        known = self.catalog.document(self.collection, doc_id)
        if known is None or known.state != "ok":
            return None
        try:
            if path.is_symlink() or path.stat().st_size > self.settings.max_file_mb * 2**20:
                return None
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            return None
        if self.content_key(digest, doc_id) == known.sha256:
            return FileResult(str(path), doc_id, "unchanged", passages=known.n_passages)
        return None

    def index_one(self, path: Path, doc_id: str, on_page: PageFn | None = None) -> FileResult:
        """Index one file (`on_page` is told of each page OCR recognises in it)."""
        s = self.settings
        same = self._unchanged(path, doc_id)
        if same is not None:
            return same
        try:
            ocr = OcrOptions(s.ocr, self.ocr_cache, on_page)
            doc = load_document(path, doc_id, max_bytes=s.max_file_mb * 2**20, ocr=ocr)
        except IngestError as exc:
            return FileResult(str(path), doc_id, "failed", error=str(exc))
        doc.sha256 = self.content_key(doc.sha256, doc_id)
        known = self.catalog.document(self.collection, doc_id)
        if known is not None and known.state == "ok" and known.sha256 == doc.sha256:
            return FileResult(str(path), doc_id, "unchanged", passages=known.n_passages)
        passages = split_document(doc, s.chunk_size, s.chunk_overlap)
        if not passages:
            return FileResult(str(path), doc_id, "failed", error="文件中没有可索引的文字内容")
        views = [passage_view(doc, p) for p in passages]
        tokens = passage_tokens(doc, passages)
        vectors = self._embed(views)
        self.write_document(doc, passages, tokens, vectors, known)
        return FileResult(str(path), doc_id, "indexed", passages=len(passages))

    def index_paths(self, paths: list[Path], progress: ProgressFn | None = None, sync: bool = False) -> IngestReport:
        """Index files and folders (recursively). Unchanged files cost a hash; failures don't stop the batch.

        With `sync`, documents of this archive whose files are no longer under `paths` are removed.
        """
        return self.index_files(discover(paths), progress, sync)

    def index_files(self, files: list[tuple[Path, str]], progress: ProgressFn | None = None, sync: bool = False,
                    refuse: Callable[[Path, str], str] | None = None,
                    indexed: Callable[[Path, str], None] | None = None) -> IngestReport:
        """Index discovered (path, doc_id) pairs, one by one; failures don't stop the batch. `refuse(path,
        doc_id)` may return a Chinese reason to leave a file out (reported as failed); `indexed(path,
        doc_id)` is told of every file indexed or found unchanged. With `sync`, documents of this archive
        that are not among `files` are removed."""
        t0 = time.perf_counter()
        report = IngestReport()
        try:
            self.recover()
        except OSError as exc:  # the store cannot be opened or written: say so for every file
            report.results = [FileResult(str(p), d, "failed", error=str(exc)) for p, d in files]
            report.seconds = time.perf_counter() - t0
            return report
        passages_done = 0
        for i, (path, doc_id) in enumerate(files):
            on_page: PageFn | None = None
            if progress:
                progress(Progress(i, len(files), passages_done, doc_id, time.perf_counter() - t0))
                on_page = _page_progress(progress, Progress(i, len(files), passages_done, doc_id, 0.0), t0)
            reason = refuse(path, doc_id) if refuse else ""
            if reason:
                report.results.append(FileResult(str(path), doc_id, "failed", error=reason))
                continue
            try:
                result = self.index_one(path, doc_id, on_page)
            except IngestError as exc:
                result = FileResult(str(path), doc_id, "failed", error=str(exc))
            except OSError as exc:
                result = FileResult(str(path), doc_id, "failed", error=f"读取或写入失败：{exc.strerror or exc}")
            if indexed and result.status in ("indexed", "unchanged"):
                indexed(path, doc_id)
            report.results.append(result)
            passages_done += result.passages if result.status == "indexed" else 0
        if sync:
            seen = {doc_id for _, doc_id in files}
            for row in self.catalog.documents(self.collection, state=None):
                if row.doc_id not in seen:
                    try:
                        self.remove(row.doc_id)
                    except OSError as exc:
                        report.results.append(FileResult(row.doc_id, row.doc_id, "failed", error=str(exc)))
                        continue
                    report.results.append(FileResult(row.doc_id, row.doc_id, "removed"))
        if progress:
            progress(Progress(len(files), len(files), passages_done, "", time.perf_counter() - t0))
        self.refresh_keyword()
        report.seconds = time.perf_counter() - t0
        return report

    def remove(self, doc_id: str) -> bool:
        row = self.catalog.document(self.collection, doc_id)
        if row is None:
            return False
        with self._write_lock:
            self.catalog.mark_pending(self.collection, Document(doc_id=doc_id, text="", title=row.title, sha256=row.sha256))
            try:
                self.dense.delete_document(doc_id)
            except Exception:
                if row.state == "ok":  # nothing was deleted: the document stays as it was
                    with contextlib.suppress(Exception):
                        self.catalog.restore_document(self.collection, doc_id, row.sha256)
                raise
            self.catalog.remove_document(self.collection, doc_id)
        return True

    def refresh_keyword(self) -> None:
        with self._keyword_lock:
            self._keyword = KeywordIndex.load_or_build(self.catalog, self.collection, self.keyword_folder)
