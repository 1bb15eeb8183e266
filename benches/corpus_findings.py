#!/usr/bin/env python3
"""Lint each repository folder of a corpus as one migration history and count findings.

Usage: benches/corpus_findings.py [--bin target/release/dbwarden] [--corpus ../shared/corpus]
                                  [--out findings.jsonl] [--sample N --seed S]

Prints per-rule counts (and how many findings fall in files the layout does not treat as forward
migrations, when the JSON carries `file_role`). With --out, writes every finding as one JSON line
(repo, rule, file, line, column, message) for hand-judging; with --sample, prints a seeded random
sample of N findings.
"""
import argparse, collections, json, os, random, subprocess, sys

ap = argparse.ArgumentParser()
ap.add_argument("--bin", default="target/release/dbwarden")
ap.add_argument("--corpus", default="../shared/corpus")
ap.add_argument("--out")
ap.add_argument("--sample", type=int, default=0)
ap.add_argument("--seed", type=int, default=11)
ap.add_argument("--with-help", action="store_true", help="print each sampled finding's help line too")
ap.add_argument("--extra", action="append", default=[], help="extra argument for dbwarden lint")
args = ap.parse_args()

counts = collections.Counter()
per_repo = collections.Counter()
everything = []
for repo in sorted(os.listdir(args.corpus)):
    path = os.path.join(args.corpus, repo)
    if not os.path.isdir(path):
        continue
    cmd = [args.bin, "lint", path, "--format", "json", "--exit-zero", "--fail-on", "info", *args.extra]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode not in (0, 1):
        print(f"{repo}: exit {out.returncode}: {out.stderr.strip()[:300]}", file=sys.stderr)
    try:
        doc = json.loads(out.stdout)
    except json.JSONDecodeError:
        print(f"{repo}: no JSON output", file=sys.stderr)
        continue
    for f in doc.get("findings", []):
        f["repo"] = repo
        counts[f["rule"]] += 1
        per_repo[repo] += 1
        everything.append(f)

print(f"{'rule':40} findings")
for rule, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
    print(f"{rule:40} {n}")
print(f"{'total':40} {sum(counts.values())}")
print()
for repo, n in sorted(per_repo.items()):
    print(f"{repo:45} {n}")

if args.out:
    with open(args.out, "w") as fh:
        for f in everything:
            fh.write(json.dumps({k: f.get(k) for k in ("repo", "rule", "severity", "file", "line", "column", "message", "help")}) + "\n")
if args.sample:
    rng = random.Random(args.seed)
    statement = [f for f in everything if f["rule"] not in ("syntax-error",)]
    for i, f in enumerate(rng.sample(statement, min(args.sample, len(statement))), 1):
        rel = os.path.relpath(f["file"], args.corpus) if f.get("file") else "-"
        print(f"{i:3}. [{f['rule']}] {rel}:{f.get('line')}:{f.get('column')}  {f['message'][:160]}")
        if args.with_help and f.get("help"):
            print(f"       help: {f['help']}")
