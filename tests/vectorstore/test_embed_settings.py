"""The embeddings server gets its own key, never the language model's."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

import vectorstore.embeddings as emb
from core.settings import Settings


def test_remote_embedder_gets_the_embedding_key_not_the_llm_key(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, object] = {}

    class Recorder:  # stands in for the HTTP client: the subject here is which key the factory passes
        name, dim = "remote:test", 4

        def __init__(self, url: str, model: str, api_key: str = "", *args: object, **kw: object) -> None:
            seen["key"] = api_key

    monkeypatch.setattr(emb, "RemoteEmbedder", Recorder)
    monkeypatch.setattr(emb, "_EMBEDDERS", {})
    settings = Settings(embed_url="http://127.0.0.1:9/v1", llm_api_key=SecretStr("llm-secret"),
                        embed_api_key=SecretStr("embed-secret"))
    emb.get_embedder(settings)
    assert seen["key"] == "embed-secret"
