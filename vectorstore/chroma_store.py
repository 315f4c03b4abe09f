"""Chroma access: the embedded store or a `chroma run` server, chosen by settings."""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlparse

import chromadb
import httpx
import numpy as np
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import ChromaError

from speechqa.settings import Settings
from vectorstore.catalog import StoreError, describe_store_error
from vectorstore.embeddings import Embedder, ServiceUnavailable, SpeechqaEmbeddingFunction

MAX_BATCH = 5000  # Chroma accepts at most 5461 records per add/upsert/delete
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
        with translate_errors(settings):
            self.collection = self.client.get_or_create_collection(
                name=chroma_name(collection),
                embedding_function=ef,  # type: ignore[arg-type]
                metadata={"hnsw:space": "cosine", "archive": collection, "model": embedder.name},
            )

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
        n = self.count()
        if n == 0:
            return []
        for attempt in (1, 2):
            try:
                with self._errors():
                    res = self.collection.query(
                        query_embeddings=[vector], n_results=min(depth, n), where=where,  # type: ignore[arg-type]
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
