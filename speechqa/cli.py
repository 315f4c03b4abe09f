"""`speechqa`: a thin command line over the packages. Exit codes: 0 ok, 1 some files failed, 2 usage."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from core.runtime import apply_defaults
from core.settings import Settings


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, object] = {}
    if getattr(args, "db", None):
        overrides["db"] = Path(args.db)
    if getattr(args, "collection", None):
        overrides["collection"] = args.collection
    return Settings(**overrides)  # type: ignore[arg-type]


def _where(pairs: list[str] | None) -> dict[str, str] | None:
    if not pairs:
        return None
    out = {}
    for p in pairs:
        key, sep, value = p.partition("=")
        if not sep or not key:
            raise SystemExit(f"--where 需要 键=值 的形式，例如 year=2016（收到：{p}）")
        out[key.strip()] = value.strip()
    return out


def cmd_ingest(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from vectorstore.archive import Archive

    settings = _settings(args)
    archive = Archive(settings)
    bar = None

    def progress(p) -> None:  # noqa: ANN001
        nonlocal bar
        if args.json or not sys.stderr.isatty() and not args.progress:
            return
        if bar is None:
            bar = tqdm(total=p.files_total, unit="文件", file=sys.stderr, dynamic_ncols=True)
        bar.n = p.files_done
        reading = f" 识别第{p.pages_done + 1}/{p.pages_total}页" if p.pages_done < p.pages_total else ""
        bar.set_postfix_str(f"段落 {p.passages_done} {p.current[-30:]}{reading}")
        bar.refresh()

    paths = [Path(p) for p in args.paths]
    missing = [str(p) for p in paths if not p.exists()]
    for m in missing:
        print(f"路径不存在：{m}", file=sys.stderr)
    try:
        report = archive.index_paths([p for p in paths if p.exists()], progress=progress, sync=args.sync)
    finally:
        archive.close()
    if bar is not None:
        bar.close()
    labels = {"indexed": "已索引", "unchanged": "未变化", "failed": "失败", "removed": "已移除"}
    for r in report.results:
        detail = f"（{r.passages} 段）" if r.status in ("indexed", "unchanged") else ""
        error = f"：{r.error}" if r.error else ""
        print(f"{labels[r.status]}\t{r.doc_id}{detail}{error}", file=sys.stderr if args.json else sys.stdout)
    summary = report.summary()
    line = (f"完成：索引 {summary['indexed']} 个，未变化 {summary['unchanged']} 个，失败 {len(report.failed)} 个，"
            f"移除 {summary['removed']} 个，共 {summary['chunks']} 段，用时 {summary['seconds']} 秒")
    if args.json:
        print(line, file=sys.stderr)
        summary.pop("removed")
        print(json.dumps(summary, ensure_ascii=False))
    else:
        print(line)
    return 1 if report.failed or missing else 0


def cmd_ask(args: argparse.Namespace) -> int:
    from bot.qa import QA

    settings = _settings(args)
    qa = QA(settings)
    where = _where(args.where)
    if args.batch:
        if not args.json:
            print("--batch 需要同时使用 --json", file=sys.stderr)
            return 2
        with open(args.batch, encoding="utf-8") as fh:
            for line in fh:
                if not line.strip():
                    continue
                item = json.loads(line)
                ans = qa.ask(item.get("question", ""), k=args.k, where=where)
                print(json.dumps({"id": item.get("id"), **ans.to_dict()}, ensure_ascii=False), flush=True)
        return 0
    if not args.question:
        print("请给出问题，或使用 --batch FILE.jsonl", file=sys.stderr)
        return 2
    ans = qa.ask(args.question, k=args.k, where=where)
    if args.json:
        print(json.dumps({"id": None, **ans.to_dict()}, ensure_ascii=False))
        return 0
    print(ans.answer)
    for c in ans.citations:
        meta = " · ".join(x for x in (c.date, c.speaker, f"第{c.page}页" if c.page else "") if x)
        print(f"\n[{c.n}] {c.title}（{c.source}{'，' + meta if meta else ''}）\n{ans.quoted(c)}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import app

    overrides: dict[str, object] = {}
    if args.db:
        overrides["db"] = Path(args.db)
    app.main(host=args.host, port=args.port, settings=Settings(**overrides))  # type: ignore[arg-type]
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from speechqa.evaluate import MODES, run_eval

    settings = _settings(args)
    modes = ("hybrid",) if args.hybrid_only else MODES
    return run_eval(Path(args.questions), settings, k=args.k, out=args.out, answer_mode=args.answer_mode,
                    limit=args.limit, archive=args.archive, split=args.split, modes=modes)


def cmd_bench(args: argparse.Namespace) -> int:
    from speechqa.bench import run_bench

    questions = Path(args.questions) if args.questions else None
    return run_bench(Path(args.folder), questions, _settings(args),
                     from_db=Path(args.from_db) if args.from_db else None, scale=args.scale,
                     subset=args.subset, fp32_sample=args.fp32_sample, passes=args.passes,
                     work=Path(args.work) if args.work else None, profile=args.profile,
                     out=Path(args.out) if args.out else None)


def cmd_load(args: argparse.Namespace) -> int:
    from speechqa.loadtest import run_load

    if args.questions:
        lines = Path(args.questions).read_text("utf-8").splitlines()
        questions = [json.loads(x)["question"] for x in lines if x.strip()]
    else:
        questions = ["会议决定5月的工作重点是什么？", "政府工作报告提出的经济增长目标是多少？", "由哪个部门负责？"]
    key = args.key or os.environ.get("SPEECHQA_LOAD_KEY", "")
    result = run_load(args.url, questions, users=args.users, seconds=args.seconds, api=args.api, key=key,
                      model=args.model)
    print(result.summary())
    for e in result.errors[:10]:
        print("  错误：", e)
    return 1 if result.errors else 0


def cmd_docs(args: argparse.Namespace) -> int:
    from vectorstore.archive import Archive

    archive = Archive(_settings(args))
    if args.docs_cmd == "list":
        docs = [d.to_dict() for d in archive.documents()]
        if args.json:
            print(json.dumps(docs, ensure_ascii=False))
        else:
            for d in docs:
                print(f"{d['doc_id']}\t{d['date'] or '-'}\t{d['passages']} 段\t{d['title']}")
            print(f"共 {len(docs)} 个文档")
        return 0
    if args.docs_cmd == "show":
        doc = archive.document(args.source)
        if doc is None:
            print(f"没有这个文档：{args.source}", file=sys.stderr)
            return 1
        print(f"{doc.title}\n日期：{doc.date or '-'}  讲话人：{doc.speaker or '-'}  来源：{doc.url or doc.doc_id}\n")
        for page, text in doc.pages():
            if page:
                print(f"—— 第{page}页 ——")
            print(text)
        return 0
    failed = 0
    for source in args.sources:
        if archive.remove(source):
            print(f"已移除\t{source}")
        else:
            print(f"没有这个文档\t{source}", file=sys.stderr)
            failed += 1
    archive.refresh_keyword()
    return 1 if failed else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="speechqa", description="讲话稿与工作报告问答")
    sub = parser.add_subparsers(dest="cmd", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--db", help="索引目录（默认 ./data 或 SPEECHQA_DB）")
        p.add_argument("--collection", help="资料库名称（默认 default）")

    p = sub.add_parser("ingest", help="索引文件或文件夹")
    p.add_argument("paths", nargs="+")
    p.add_argument("--json", action="store_true")
    p.add_argument("--sync", action="store_true", help="移除文件已不存在的文档")
    p.add_argument("--progress", action="store_true", help="即使不是终端也显示进度")
    common(p)
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("ask", help="提问")
    p.add_argument("question", nargs="?")
    p.add_argument("--batch")
    p.add_argument("--json", action="store_true")
    p.add_argument("-k", type=int, default=None)
    p.add_argument("--where", action="append", help="过滤条件，例如 year=2016")
    common(p)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("serve", help="启动网页应用")
    p.add_argument("--host", default=None)
    p.add_argument("--port", type=int, default=None)
    p.add_argument("--db")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("eval", help="在问题集上评测检索与回答")
    p.add_argument("questions")
    p.add_argument("-k", type=int, default=5)
    p.add_argument("--out", help="把每题结果写入 JSONL 文件")
    p.add_argument("--answer-mode", choices=["llamacpp", "openai"], default=None,
                   help="同时评测抽取式回答与该模式的生成式回答（并列输出，含首字与总耗时）")
    p.add_argument("--limit", type=int, default=None, help="只评测前 N 个问题")
    p.add_argument("--archive", default=None, help="只评测 archive 字段为此值的问题（未写 archive 的算 corpus）")
    p.add_argument("--split", default=None, help="只评测 split 字段为此值的问题（tune 或 heldout）")
    p.add_argument("--hybrid-only", action="store_true", help="只评测产品使用的混合检索（不比较单一检索）")
    common(p)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("bench", help="测量索引吞吐与检索延迟")
    p.add_argument("folder")
    p.add_argument("--questions", help="问题集 JSONL（测检索与回答延迟；不给则只测索引吞吐）")
    p.add_argument("--subset", type=int, default=2000, help="比较索引与嵌入模型吞吐时使用的段落数（约数）")
    p.add_argument("--fp32-sample", type=int, default=256, help="另测 fp32 嵌入速度的段落数（0 不测）")
    p.add_argument("--from-db", help="复制这个索引作 1 倍规模（只读，不改动它）；不给则重新索引 folder")
    p.add_argument("--scale", type=int, default=1, help="扩充到原规模的几倍（副本经扰动写入，见 speechqa/scale.py）")
    p.add_argument("--passes", type=int, default=3, help="问题集重复几遍计延迟")
    p.add_argument("--work", help="工作目录（保留扩充后的索引）；默认用临时目录并在结束后删除")
    p.add_argument("--profile", action="store_true", help="用 cProfile 记录提问过程并打印热点")
    p.add_argument("--out", help="把结果追加到 Markdown 文件，例如 docs/BENCHMARKS.md")
    common(p)
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("load", help="模拟多个用户通过网页应用的接口同时提问（仅限本机服务）")
    p.add_argument("url", help="例如 http://127.0.0.1:7860/")
    p.add_argument("--users", type=int, default=8)
    p.add_argument("--seconds", type=float, default=120.0)
    p.add_argument("--questions", help="问题集 JSONL")
    p.add_argument("--api", choices=["gradio", "openai"], default="gradio",
                   help="gradio：网页应用的 /ask 接口（默认）；openai：OpenAI 兼容接口 /v1/chat/completions")
    p.add_argument("--key", default="", help="--api openai 时使用的 API 密钥（也可用环境变量 SPEECHQA_LOAD_KEY）")
    p.add_argument("--model", default="", help="--api openai 时提问的资料库（模型），默认为服务的默认资料库")
    p.set_defaults(func=cmd_load)

    p = sub.add_parser("docs", help="查看或移除文档")
    dsub = p.add_subparsers(dest="docs_cmd", required=True)
    d = dsub.add_parser("list")
    d.add_argument("--json", action="store_true")
    common(d)
    d = dsub.add_parser("show")
    d.add_argument("source")
    common(d)
    d = dsub.add_parser("remove")
    d.add_argument("sources", nargs="+")
    common(d)
    p.set_defaults(func=cmd_docs)
    return parser


def main(argv: list[str] | None = None) -> int:
    apply_defaults()  # before the commands import torch, Chroma or Gradio
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
