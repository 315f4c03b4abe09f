"""Chroma access: the embedded store or a `chroma run` server, chosen by settings."""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlparse

import chromadb
import httpx
import numpy as np
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import ChromaError

from core.settings import Settings
from vectorstore.catalog import StoreError, describe_store_error
from vectorstore.embeddings import Embedder, ServiceUnavailable, SpeechqaEmbeddingFunction

MAX_BATCH = 5000  # Chroma accepts at most 5461 records per add/upsert/delete
# Vectors of recently searched documents kept in memory for exact searches over a few documents (~1.5 KB
# each at 384 dimensions: 32k vectors are about 50 MB).
DOC_CACHE_VECTORS = 32_768
_NO_SUCH_ID = "speechqa:catch-up"  # deleted to make an embedded store apply other processes' writes


@contextlib.contextmanager
def translate_errors(settings: Settings) -> Iterator[None]:
    """Chroma and transport failures as ServiceUnavailable (a server cannot be reached) or StoreError
    (the store cannot be opened or written), with Chinese messages; anything else unchanged."""
    where = settings.chroma_url or settings.db / "chroma"
    try:
        yield
    except (httpx.TransportError, ValueError) as exc:
        # chromadb.HttpClient() turns a refused connection into a ValueError with the ConnectError as context
        if isinstance(exc, ValueError) and not isinstance(exc.__context__, httpx.TransportError):
            raise
        raise ServiceUnavailable(
            f"无法连接向量库服务（{settings.chroma_url}）：{exc.__context__ or exc}。请确认 Chroma 服务已启动后重试。"
        ) from exc
    except (ChromaError, OSError) as exc:
        if isinstance(exc, (ServiceUnavailable, StoreError)):
            raise
        text = str(exc).lower()
        if isinstance(exc, OSError) or any(w in text for w in ("full", "readonly", "read-only", "disk i/o",
                                                                 "unable to open", "permission")):
            raise StoreError(describe_store_error(exc, where)) from exc
        raise


def make_client(settings: Settings) -> chromadb.ClientAPI:
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    with translate_errors(settings):
        if settings.chroma_url:
            url = urlparse(settings.chroma_url)
            return chromadb.HttpClient(
                host=url.hostname or "127.0.0.1",
                port=url.port or 8000,
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
        path = settings.db / "chroma"
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


def chroma_name(collection: str) -> str:
    """Chroma allows only [A-Za-z0-9._-] names; archives may be called 市政府."""
    return "speechqa-" + hashlib.sha1(collection.encode("utf-8")).hexdigest()[:16]


@dataclass
class DenseHit:
    passage_id: str
    doc_id: str
    sha256: str
    similarity: float


class DenseStore:
    """One collection's vectors. Writes go through here; reads are plain nearest-neighbour queries."""

    _client_lock = threading.Lock()
    _clients: dict[tuple[str, str], chromadb.ClientAPI] = {}

    def __init__(self, settings: Settings, collection: str, embedder: Embedder) -> None:
        key = (settings.chroma_url, str(settings.db))
        self._settings = settings
        self.embedded = not settings.chroma_url
        with DenseStore._client_lock:
            if key not in DenseStore._clients:
                DenseStore._clients[key] = make_client(settings)
            self.client = DenseStore._clients[key]
        self.embedder = embedder
        ef = SpeechqaEmbeddingFunction(embedder.name).bind(embedder)
        self._doc_cache: OrderedDict[tuple[str, str], tuple[list[str], np.ndarray]] = OrderedDict()
        self._doc_cache_size = 0
        self._doc_cache_lock = threading.Lock()
        with translate_errors(settings):
            self.collection = self.client.get_or_create_collection(
                name=chroma_name(collection),
                embedding_function=ef,  # type: ignore[arg-type]
                metadata={"hnsw:space": "cosine", "archive": collection, "model": embedder.name},
                configuration={"hnsw": {"space": "cosine", "ef_search": settings.hnsw_ef_search}},
            )
            self._widen_search(settings.hnsw_ef_search)

    def _widen_search(self, ef_search: int) -> None:
        """Give a store made with a narrower search (Chroma's default, or an older speechqa) this breadth,
        before its index is first queried in this process (a change made later applies from the next load).
        A store that cannot be written keeps its own."""
        hnsw = (self.collection.configuration or {}).get("hnsw") or {}
        if int(hnsw.get("ef_search") or 0) != ef_search:
            with contextlib.suppress(Exception):
                self.collection.modify(configuration={"hnsw": {"ef_search": ef_search}})

    def _errors(self) -> contextlib.AbstractContextManager[None]:
        return translate_errors(self._settings)

    def catch_up(self) -> None:
        """Make this process see what other processes wrote.

        The embedded store keeps each process's vector index in memory and applies other processes' writes
        to it only when this process writes: until then a reader (the app while `speechqa ingest` runs
        elsewhere) misses new vectors, still finds deleted ones (with no metadata), and a filtered query
        naming new ids fails with "Error finding id". A delete of an id that never exists is such a write.
        A server needs none of this; a store that cannot be written stays as it is."""
        if self.embedded:
            with contextlib.suppress(Exception):
                self.collection.delete(ids=[_NO_SUCH_ID])

    @staticmethod
    def forget_clients() -> None:
        """Drop cached clients (tests that delete a store folder, or a server that came back)."""
        with DenseStore._client_lock:
            DenseStore._clients.clear()

    def count(self) -> int:
        with self._errors():
            return int(self.collection.count())

    def delete_document(self, doc_id: str) -> None:
        with self._errors():
            self.collection.delete(where={"doc_id": doc_id})

    def add(self, ids: list[str], vectors: np.ndarray, metadatas: list[dict[str, str | int]]) -> None:
        """Vectors only: passage text lives in the catalog (storing it here too would make Chroma build a
        full-text index that nothing reads, and triple the write time)."""
        for i in range(0, len(ids), MAX_BATCH):
            with self._errors():
                self.collection.upsert(
                    ids=ids[i : i + MAX_BATCH],
                    embeddings=vectors[i : i + MAX_BATCH],
                    metadatas=metadatas[i : i + MAX_BATCH],  # type: ignore[arg-type]
                )

    def doc_ids(self) -> set[str]:
        """Every document id that has vectors (for cleaning up after a crash)."""
        out: set[str] = set()
        offset = 0
        while True:
            with self._errors():
                got = self.collection.get(include=["metadatas"], limit=MAX_BATCH, offset=offset)
            metas = got["metadatas"] or []
            out.update(str(m["doc_id"]) for m in metas if m)
            if len(metas) < MAX_BATCH:
                return out
            offset += MAX_BATCH

    def query(self, vector: np.ndarray, depth: int, where: dict[str, object] | None = None) -> list[DenseHit]:
        # No count() first: Chroma returns what there is (nothing from an empty collection), and counting
        # costs 15 ms per query at 160k passages.
        for attempt in (1, 2):
            try:
                with self._errors():
                    res = self.collection.query(
                        query_embeddings=[vector], n_results=depth, where=where,  # type: ignore[arg-type]
                        include=["metadatas", "distances"],
                    )
                break
            except ChromaError as exc:  # an embedded reader behind another process's writes
                if attempt == 2 or not self.embedded or "finding id" not in str(exc).lower():
                    raise
                self.catch_up()
        hits = []
        for pid, meta, dist in zip(res["ids"][0], res["metadatas"][0], res["distances"][0], strict=True):  # type: ignore[index]
            if not meta:  # deleted by another process since this process last caught up: not citable
                continue
            hits.append(DenseHit(pid, str(meta["doc_id"]), str(meta.get("sha256", "")), 1.0 - float(dist)))
        return hits

    def _doc_vectors(self, docs: dict[str, tuple[str, list[str]]]) -> dict[str, tuple[list[str], np.ndarray]]:
        """Each document's passage ids and vectors as committed under its content key ({doc_id: (sha256,
        passage ids)}), from the cache or fetched by id. Vectors under another key (a document being replaced
        right now) are left out, and such a document is not cached."""
        out: dict[str, tuple[list[str], np.ndarray]] = {}
        missing: dict[str, tuple[str, list[str]]] = {}
        with self._doc_cache_lock:
            for doc_id, (sha, ids) in docs.items():
                hit = self._doc_cache.get((doc_id, sha))
                if hit is not None and len(hit[0]) == len(ids):
                    self._doc_cache.move_to_end((doc_id, sha))
                    out[doc_id] = hit
                else:
                    missing[doc_id] = (sha, ids)
        if not missing:
            return out
        wanted = [pid for _, ids in missing.values() for pid in ids]
        found: dict[str, tuple[str, np.ndarray]] = {}
        for i in range(0, len(wanted), MAX_BATCH):
            with self._errors():
                got = self.collection.get(ids=wanted[i : i + MAX_BATCH], include=["embeddings", "metadatas"])
            for pid, meta, vec in zip(got["ids"], got["metadatas"] or [], got["embeddings"], strict=True):  # type: ignore[arg-type]
                if meta:
                    found[pid] = (str(meta.get("sha256", "")), np.asarray(vec, dtype=np.float32))
        for doc_id, (sha, ids) in missing.items():
            keep = [pid for pid in ids if pid in found and found[pid][0] == sha]
            if not keep:
                continue
            entry = (keep, np.stack([found[pid][1] for pid in keep]))
            out[doc_id] = entry
            if len(keep) == len(ids) and len(keep) <= DOC_CACHE_VECTORS // 4:
                with self._doc_cache_lock:
                    if (doc_id, sha) not in self._doc_cache:
                        self._doc_cache[(doc_id, sha)] = entry
                        self._doc_cache_size += len(keep)
                    while self._doc_cache_size > DOC_CACHE_VECTORS:
                        _, (old, _vecs) = self._doc_cache.popitem(last=False)
                        self._doc_cache_size -= len(old)
        return out

    def query_docs(self, vector: np.ndarray, docs: dict[str, tuple[str, list[str]]], depth: int) -> list[DenseHit]:
        """Exact nearest neighbours among the passages of a few documents ({doc_id: (sha256, passage ids)}).

        What a `where={"doc_id": {"$in": ...}}` query does, without its cost: Chroma filters on metadata by
        scanning, 15 ms per filtered query at 12k passages and 150-300 ms at 160k, while the vectors of a
        few documents are fetched by id once (then cached) and compared exactly."""
        if not docs:
            return []
        vecs = self._doc_vectors(docs)
        if not vecs:
            return []
        shas = {d: sha for d, (sha, _) in docs.items()}
        owners = [(d, pid) for d, (ids, _) in vecs.items() for pid in ids]
        matrix = np.concatenate([m for _, m in vecs.values()])
        q = np.asarray(vector, dtype=np.float32)
        sims = matrix @ q / np.maximum(np.linalg.norm(matrix, axis=1) * np.linalg.norm(q), 1e-12)
        depth = min(depth, len(sims))
        top = np.argpartition(-sims, depth - 1)[:depth]
        top = top[np.argsort(-sims[top], kind="stable")]
        return [DenseHit(owners[i][1], owners[i][0], shas[owners[i][0]], float(sims[i])) for i in top]
