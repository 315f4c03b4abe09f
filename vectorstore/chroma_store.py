"""Chroma access: the embedded store or a `chroma run` server, chosen by settings."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from urllib.parse import urlparse

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings

from speechqa.settings import Settings
from vectorstore.embeddings import Embedder, SpeechqaEmbeddingFunction

MAX_BATCH = 5000  # Chroma accepts at most 5461 records per add/upsert/delete


def make_client(settings: Settings) -> chromadb.ClientAPI:
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
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
        with DenseStore._client_lock:
            if key not in DenseStore._clients:
                DenseStore._clients[key] = make_client(settings)
            self.client = DenseStore._clients[key]
        self.embedder = embedder
        ef = SpeechqaEmbeddingFunction(embedder.name).bind(embedder)
        self.collection = self.client.get_or_create_collection(
            name=chroma_name(collection),
            embedding_function=ef,  # type: ignore[arg-type]
            metadata={"hnsw:space": "cosine", "archive": collection, "model": embedder.name},
        )

    @staticmethod
    def forget_clients() -> None:
        """Drop cached clients (tests that delete a store folder, or a server that came back)."""
        with DenseStore._client_lock:
            DenseStore._clients.clear()

    def count(self) -> int:
        return int(self.collection.count())

    def delete_document(self, doc_id: str) -> None:
        self.collection.delete(where={"doc_id": doc_id})

    def add(self, ids: list[str], vectors: np.ndarray, metadatas: list[dict[str, str | int]]) -> None:
        """Vectors only: passage text lives in the catalog (storing it here too would make Chroma build a
        full-text index that nothing reads, and triple the write time)."""
        for i in range(0, len(ids), MAX_BATCH):
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
        res = self.collection.query(
            query_embeddings=[vector], n_results=min(depth, n), where=where, include=["metadatas", "distances"]  # type: ignore[arg-type]
        )
        hits = []
        for pid, meta, dist in zip(res["ids"][0], res["metadatas"][0], res["distances"][0], strict=True):  # type: ignore[index]
            hits.append(DenseHit(pid, str(meta["doc_id"]), str(meta.get("sha256", "")), 1.0 - float(dist)))
        return hits
