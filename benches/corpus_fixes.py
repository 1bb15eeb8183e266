#!/usr/bin/env python3
"""Applies every safe fix dbwarden emits on a corpus, re-lints, and counts the findings a fix
left behind (a fix that does not remove its own finding is wrong where it is pasted).

Usage: benches/corpus_fixes.py [--bin target/release/dbwarden] [--corpus ../shared/corpus]

Each repository folder is copied to a temporary folder, every `applicability = "safe"` fix's
edits are applied (edits of several findings that overlap keep the first), and the copy is
linted again. For each rule, it prints the fixes applied and how many of their findings remain.
"""
import argparse, collections, json, os, shutil, subprocess, tempfile

ap = argparse.ArgumentParser()
ap.add_argument("--bin", default="target/release/dbwarden")
ap.add_argument("--corpus", default="../shared/corpus")
ap.add_argument("--show", type=int, default=5, help="list this many remaining findings per rule")
args = ap.parse_args()
binary = os.path.abspath(args.bin)


def lint(path):
    out = subprocess.run([binary, "lint", path, "--format", "json", "--exit-zero", "--fail-on", "info"],
                         capture_output=True, text=True)
    try:
        return json.loads(out.stdout)["findings"]
    except json.JSONDecodeError:
        return []


def offset(lines, line, column):
    """Byte-free offset into the text (a str) of a 1-based line and character column."""
    return sum(len(l) for l in lines[: line - 1]) + column - 1


applied = collections.Counter()
introduced = collections.Counter()
introduced_examples = []
remaining = collections.Counter()
examples = collections.defaultdict(list)
for repo in sorted(os.listdir(args.corpus)):
    src = os.path.join(args.corpus, repo)
    if not os.path.isdir(src):
        continue
    with tempfile.TemporaryDirectory() as tmp:
        dst = os.path.join(tmp, repo)
        shutil.copytree(src, dst)
        by_file = collections.defaultdict(list)
        for f in lint(dst):
            fix = f.get("fix_edits")
            if fix and fix.get("applicability") == "safe" and fix.get("edits"):
                by_file[f["file"]].append(f)
        fixed_keys = collections.Counter()
        for path, findings in by_file.items():
            with open(path, encoding="utf-8", errors="surrogateescape", newline="") as fh:
                text = fh.read()
            lines = text.splitlines(keepends=True)
            spans = []
            for f in findings:
                edits = []
                for e in f["fix_edits"]["edits"]:
                    if "line" not in e:
                        continue  # a new file: not applied here
                    a, b = offset(lines, e["line"], e["column"]), offset(lines, e["end_line"], e["end_column"])
                    edits.append((a, b, e["text"]))
                if not edits or any(a < y and x < b or (a == b == x) for a, b, _ in edits for x, y, _ in spans):
                    continue
                spans.extend(edits)
                applied[f["rule"]] += 1
                fixed_keys[(f["rule"], path)] += 1
            for a, b, t in sorted(spans, key=lambda s: (s[0], s[1]), reverse=True):
                text = text[:a] + t + text[b:]
            with open(path, "w", encoding="utf-8", errors="surrogateescape", newline="") as fh:
                fh.write(text)
        before = collections.Counter((f["rule"], f["file"]) for fs in by_file.values() for f in fs)
        after = collections.Counter()
        after_list = collections.defaultdict(list)
        for f in lint(dst):
            after[(f["rule"], f["file"])] += 1
            after_list[(f["rule"], f["file"])].append(f)
        # Findings of a fixed rule in a fixed file, beyond those that had no safe fix.
        orig = collections.Counter()
        for f in lint(src):
            orig[(f["rule"], f["file"].replace(src, dst))] += 1
        fixed_files = {path for (_, path) in fixed_keys}
        for key, n in after.items():
            if key[1] in fixed_files and n > orig[key]:
                introduced[key[0]] += n - orig[key]
                for f in after_list[key][:1]:
                    introduced_examples.append(f"{os.path.relpath(f['file'], tmp)}:{f['line']}: [{f['rule']}] {f['message'][:110]}")
        for key, n in fixed_keys.items():
            left = max(0, after[key] - (orig[key] - n))
            if left > 0:
                remaining[key[0]] += left
                for f in after_list[key][:1]:
                    examples[key[0]].append(f"{os.path.relpath(f['file'], tmp)}:{f['line']}: {f['message'][:120]}")

print(f"{'rule':36} {'fixes applied':>14} {'findings left':>14}")
for rule in sorted(applied, key=lambda r: -applied[r]):
    print(f"{rule:36} {applied[rule]:>14} {remaining[rule]:>14}")
print(f"{'total':36} {sum(applied.values()):>14} {sum(remaining.values()):>14}")
print(f"findings of other rules the fixes brought in: {sum(introduced.values())} {dict(introduced)}")
for e in introduced_examples[: args.show * 2]:
    print("  ", e)
for rule, ex in examples.items():
    print(f"\n{rule}:")
    for e in ex[: args.show]:
        print("  ", e)
