#!/usr/bin/env python3
"""Precision and recall of dbwarden on the labelled set in fixtures/precision/.

Usage: benches/precision.py [--bin target/release/dbwarden]

A reported finding is a true positive when its case labels it `verdict = "true"` ([[finding]]),
otherwise a false positive (labelled [[false]] or unlabelled). A labelled true finding not
reported is a false negative.
"""
import argparse, json, os, subprocess, tomllib

ap = argparse.ArgumentParser()
ap.add_argument("--bin", default="target/release/dbwarden")
ap.add_argument("--root", default=os.path.join(os.path.dirname(__file__), "..", "fixtures", "precision"))
args = ap.parse_args()
root = os.path.abspath(args.root)
tp = fp = fn = not_run = 0
for case in sorted(c for c in os.listdir(root) if os.path.isdir(os.path.join(root, c))):
    d = os.path.join(root, case)
    tree = os.path.join(d, "tree")
    with open(os.path.join(d, "case.toml"), "rb") as fh:
        labels = tomllib.load(fh)
    own = os.path.join(d, "dbwarden.toml")
    config = own if os.path.exists(own) else os.path.join(root, "dbwarden.toml")
    out = subprocess.run([args.bin, "lint", tree, "--format", "json", "--exit-zero", "--fail-on", "info", "--config", config],
                         capture_output=True, text=True)
    try:
        findings = json.loads(out.stdout)["findings"]
    except json.JSONDecodeError:
        print(f"not run         {case}: {out.stderr.strip()[:160]}")
        not_run += 1
        continue
    got = {(f["rule"], os.path.relpath(f["file"], tree), f["line"]) for f in findings}
    want = {(f["rule"], f["file"], f["line"]) for f in labels.get("finding", []) if f["verdict"] == "true"}
    for extra in sorted(got - want):
        print(f"false positive  {case}: {extra}")
    for missing in sorted(want - got):
        print(f"false negative  {case}: {missing}")
    tp += len(got & want)
    fp += len(got - want)
    fn += len(want - got)
cases = len([c for c in os.listdir(root) if os.path.isdir(os.path.join(root, c))])
print(f"{cases} cases ({not_run} not run): {tp + fp} findings reported, {tp} true, {fp} false, {fn} true findings missed")
print(f"precision {tp / max(tp + fp, 1):.1%}, recall {tp / max(tp + fn, 1):.1%}")
