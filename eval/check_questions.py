#!/usr/bin/env python3
"""Check answer-question sets (jsonl) against the eval corpus and the demo archive (stdlib only).

Usage:
  python3 check_questions.py FILE.jsonl [FILE.jsonl ...]
         [--corpus DIR]      default: ../../shared/corpus relative to this script
         [--demo DIR]        default: ../demo/archive relative to this script
         [--against FILE]    reference set(s) whose answers must not overlap ours (repeatable)
         [--lenient-near-miss]  unanswerable rows without near_miss are a warning, not a failure
                                (for older sets such as dev_questions.jsonl)

Each row is one JSON object:
  id, question, archive ("corpus" | "demo"; missing means "corpus"), doc (path relative to the
  archive root, null for unanswerable), answer (verbatim substring of the raw file, null for
  unanswerable), kind (see KINDS), optional answer_parts (list of verbatim substrings),
  near_miss (unanswerable only; see NEAR_MISS).

Failures:
  - bad JSON, missing/unknown fields, wrong types, unknown kind / archive / near_miss
  - duplicate id (across all files given)
  - answerable: doc missing from its archive; answer or an answer_parts item not a verbatim
    substring of the raw file (decoded as UTF-8; files that are not UTF-8, such as the demo's
    GBK file, are decoded as GB18030 - no other normalisation); answer containing an HTML tag or
    entity; near_miss present
  - unanswerable: doc or answer not null, answer_parts present, near_miss missing
  - with --against: an answer/answer_parts string equal to, containing, or contained in an
    answer/answer_parts string of a reference file
Warnings (not failures): list question without answer_parts or with fewer than 3 / more than 12
  items; answer_parts item shorter than 4 or longer than 30 characters; answer copied into the
  question; two answerable rows whose answers sit within 200 characters of each other in the
  same document (possible shared gold passage).
Prints counts by archive, kind and near_miss, then 'FAILURES: N'; exits 1 if N > 0.
"""
import argparse
import collections
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
KINDS = {"list", "decision", "who", "number", "date", "where", "why", "fact", "unanswerable"}
ARCHIVES = {"corpus", "demo"}
NEAR_MISS = {"no_figure", "other_year", "other_place", "other_meeting", "other_person"}
REQUIRED = ("id", "question", "doc", "answer", "kind")
OPTIONAL = {"archive", "answer_parts", "near_miss", "split"}  # split: "tune" or "heldout", assigned once
TAG_OR_ENTITY = re.compile(r"<[A-Za-z/!][^>]*>|&(?:[A-Za-z]+|#\d+|#x[0-9A-Fa-f]+);")
PASSAGE_GAP = 200


def read_raw(path):
    with open(path, "rb") as fh:
        data = fh.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030")


def load_rows(path, fail):
    rows = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                r = json.loads(line)
            except json.JSONDecodeError as e:
                fail(f"{os.path.basename(path)} line {n}: bad JSON ({e})")
                continue
            if not isinstance(r, dict):
                fail(f"{os.path.basename(path)} line {n}: not a JSON object")
                continue
            rows.append(r)
    return rows


def strings_of(r):
    out = []
    if isinstance(r.get("answer"), str) and r["answer"]:
        out.append(r["answer"])
    parts = r.get("answer_parts")
    if isinstance(parts, list):
        out.extend(p for p in parts if isinstance(p, str) and p)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("files", nargs="+")
    ap.add_argument("--corpus", default=os.path.normpath(os.path.join(HERE, "..", "..", "shared", "corpus")))
    ap.add_argument("--demo", default=os.path.normpath(os.path.join(HERE, "..", "demo", "archive")))
    ap.add_argument("--against", action="append", default=[])
    ap.add_argument("--lenient-near-miss", action="store_true")
    args = ap.parse_args()

    roots = {"corpus": os.path.abspath(args.corpus), "demo": os.path.abspath(args.demo)}
    for name, root in roots.items():
        if not os.path.isdir(root):
            print(f"WARN {name} folder not found: {root} (use --{name})")

    fails = 0
    warns = 0

    def fail(msg):
        nonlocal fails
        fails += 1
        print("FAIL", msg)

    def warn(msg):
        nonlocal warns
        warns += 1
        print("WARN", msg)

    cache = {}

    def text(archive, doc):
        key = (archive, doc)
        if key not in cache:
            cache[key] = read_raw(os.path.join(roots[archive], doc))
        return cache[key]

    ref_strings = []
    for ref in args.against:
        for r in load_rows(ref, fail):
            for s in strings_of(r):
                ref_strings.append((s, f"{os.path.basename(ref)}:{r.get('id', '?')}"))

    seen_ids = {}
    total = collections.Counter()
    by_archive = collections.Counter()
    by_kind = collections.Counter()
    by_archive_kind = collections.Counter()
    by_near = collections.Counter()
    docs = collections.defaultdict(set)
    two_part = 0

    for path in args.files:
        fname = os.path.basename(path)
        rows = load_rows(path, fail)
        positions = collections.defaultdict(list)  # (archive, doc) -> [(start, end, id)]
        for r in rows:
            rid = r.get("id", "?")
            tag = f"{fname}:{rid}"
            missing = [k for k in REQUIRED if k not in r]
            if missing:
                fail(f"{tag}: missing fields {missing}")
                continue
            extra = set(r) - set(REQUIRED) - OPTIONAL
            if extra:
                warn(f"{tag}: unknown fields {sorted(extra)}")
            if not isinstance(rid, str) or not rid:
                fail(f"{tag}: id must be a non-empty string")
            elif rid in seen_ids:
                fail(f"{tag}: duplicate id (also in {seen_ids[rid]})")
            else:
                seen_ids[rid] = fname
            if not isinstance(r["question"], str) or not r["question"].strip():
                fail(f"{tag}: empty question")
            archive = r.get("archive", "corpus")
            if archive not in ARCHIVES:
                fail(f"{tag}: unknown archive {archive!r}")
                continue
            kind = r["kind"]
            if kind not in KINDS:
                fail(f"{tag}: unknown kind {kind!r}")
            total[fname] += 1
            by_archive[archive] += 1
            by_kind[kind] += 1
            by_archive_kind[(archive, kind)] += 1

            parts = r.get("answer_parts")
            if parts is not None and (not isinstance(parts, list) or not parts
                                      or not all(isinstance(p, str) and p for p in parts)):
                fail(f"{tag}: answer_parts must be a non-empty list of non-empty strings")
                parts = None

            if kind == "unanswerable":
                if r["doc"] is not None or r["answer"] is not None or parts is not None:
                    fail(f"{tag}: unanswerable must have doc=null, answer=null and no answer_parts")
                nm = r.get("near_miss")
                if nm is None:
                    (warn if args.lenient_near_miss else fail)(f"{tag}: unanswerable without near_miss")
                    by_near[(archive, "(none)")] += 1
                elif nm not in NEAR_MISS:
                    fail(f"{tag}: unknown near_miss {nm!r}")
                else:
                    by_near[(archive, nm)] += 1
                continue

            if "near_miss" in r:
                fail(f"{tag}: near_miss is only for unanswerable rows")
            doc, ans = r["doc"], r["answer"]
            if not isinstance(doc, str) or not doc:
                fail(f"{tag}: doc must be a path")
                continue
            full = os.path.normpath(os.path.join(roots[archive], doc))
            if not full.startswith(roots[archive] + os.sep) or not os.path.isfile(full):
                fail(f"{tag}: doc not found in {archive} archive: {doc!r}")
                continue
            if not isinstance(ans, str) or not ans:
                fail(f"{tag}: empty answer")
                continue
            docs[archive].add(doc)
            t = text(archive, doc)
            items = [ans] + (parts or [])
            for s in items:
                if s not in t:
                    fail(f"{tag}: not verbatim in {doc}: {s!r}")
                if TAG_OR_ENTITY.search(s):
                    fail(f"{tag}: HTML tag or entity inside answer string: {s!r}")
                if s in r["question"]:
                    warn(f"{tag}: answer text copied into question: {s!r}")
                for ref, where in ref_strings:
                    if s == ref or s in ref or ref in s:
                        fail(f"{tag}: answer string {s!r} overlaps {where} answer {ref!r}")
            if kind == "list":
                if not parts:
                    warn(f"{tag}: list question without answer_parts")
                elif not 3 <= len(parts) <= 12:
                    warn(f"{tag}: list with {len(parts)} answer_parts (expected 3-12)")
            elif parts and len(parts) == 2:
                two_part += 1
            for p in parts or []:
                if not 4 <= len(p) <= 30:
                    warn(f"{tag}: answer_parts item of {len(p)} characters: {p!r}")
            found = [(t.find(s), t.find(s) + len(s)) for s in items if s in t]
            if found:  # span from the first to the last string (first occurrences)
                positions[(archive, doc)].append((min(a for a, _ in found), max(b for _, b in found), rid))

        for (_archive, _doc), spans in positions.items():
            spans.sort()
            for i, (_s1, e1, id1) in enumerate(spans):
                for s2, _e2, id2 in spans[i + 1:]:
                    if s2 - e1 < PASSAGE_GAP:
                        warn(f"{fname}: {id1} and {id2} answers are {max(0, s2 - e1)} chars apart"
                             f" in {doc} (shared passage?)")

    print()
    for f in args.files:
        print(f"{os.path.basename(f)}: {total[os.path.basename(f)]} questions")
    print("by archive:", ", ".join(f"{a}={by_archive[a]}" for a in sorted(by_archive)))
    print("by kind:", ", ".join(f"{k}={by_kind[k]}" for k in sorted(by_kind)))
    for a in sorted(by_archive):
        print(f"  {a}:", ", ".join(f"{k}={by_archive_kind[(a, k)]}" for k in sorted(KINDS) if by_archive_kind[(a, k)]))
    print("by near_miss:", ", ".join(f"{a}/{n}={c}" for (a, n), c in sorted(by_near.items())))
    print("distinct gold docs:", ", ".join(f"{a}={len(docs[a])}" for a in sorted(docs)),
          f"| two-fact rows (non-list, 2 answer_parts)={two_part} | warnings={warns}")
    print("FAILURES:", fails)
    sys.exit(1 if fails else 0)


if __name__ == "__main__":
    main()
