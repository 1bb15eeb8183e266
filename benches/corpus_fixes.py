#!/usr/bin/env python3
"""Applies every safe fix dbwarden emits on a corpus, re-lints, and counts the findings a fix
left behind (a fix that does not remove its own finding is wrong where it is pasted).

Usage: benches/corpus_fixes.py [--bin target/release/dbwarden] [--corpus ../shared/corpus]
                                [--execute [--database-url URL]]

Each repository folder is copied to a temporary folder, every `applicability = "safe"` fix's
edits are applied (edits of several findings that overlap keep the first; each new statement
becomes a new migration file of its own beside the finding's file, named to sort after it and
headed by the file's tool marker), and the copy is linted again. For each rule, it prints the
fixes emitted (and of them safe), the fixes applied, the fixes that would not run where they
land (the re-lint finds `concurrent-in-transaction` or a syntax error in a new file of the fix,
or more of them in a file it edited) and the findings of the rule left behind.

With --execute, each history is also run on PostgreSQL twice, in new databases: as written, and
with the fixes applied. Each file runs the way its migration tool runs it (`dbwarden lint
--list-files`: in one transaction, as one query string, or statement by statement). A file that
fails as written (templated files, missing extensions or roles) does not stop the history; the
fixes in the files that run as written are "executed", and each of those files that fails once
fixed is listed with the server's error. Roles and databases a history creates are dropped after each run.
"""
import argparse, collections, json, os, re, shutil, subprocess, tempfile

ap = argparse.ArgumentParser()
ap.add_argument("--bin", default="target/release/dbwarden")
ap.add_argument("--corpus", default="../shared/corpus")
ap.add_argument("--show", type=int, default=5, help="list this many remaining findings per rule")
ap.add_argument("--execute", action="store_true", help="also run each history, as written and fixed, on PostgreSQL")
ap.add_argument("--database-url", default=os.environ.get("DBWARDEN_TEST_DATABASE_URL",
                                                         "postgres://postgres@127.0.0.1:5432/postgres"))
args = ap.parse_args()
binary = os.path.abspath(args.bin)


def lint(path):
    out = subprocess.run([binary, "lint", path, "--format", "json", "--exit-zero", "--fail-on", "info"],
                         capture_output=True, text=True)
    try:
        return json.loads(out.stdout)["findings"]
    except json.JSONDecodeError:
        return []


def psql(db, *extra, stdin=None):
    # The path of the URL is the database: replace only the last path segment.
    base, _, query = args.database_url.partition("?")
    head = base.rsplit("/", 1)[0] if db else base
    url = head + ("/" + db if db else "") + ("?" + query if query else "")
    env = dict(os.environ, PGOPTIONS="-c client_min_messages=warning")
    return subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, *extra],
                          capture_output=True, text=True, env=env, input=stdin, timeout=600)


NON_TRANSACTIONAL = re.compile(r"\bCONCURRENTLY\b|^\s*VACUUM\b", re.I | re.M)


DOWN_SECTION = re.compile(r"^\s*--\s*(\+goose\s+down|migrate:down)\b", re.I | re.M)
CREATES_DATABASE = re.compile(r'\bcreate\s+database\s+"?(\w+)', re.I)
CREATES_ROLE = re.compile(r'\bcreate\s+(role|user)\s+(?:if\s+not\s+exists\s+)?"?(\w+)', re.I)


def run_history(files, texts):
    """Runs the files (path, runs_as) in order in a new database, going on after a file that
    fails (a failed file's transaction is rolled back); returns each file's error, or None."""
    db = f"dbw_fixexec_{os.getpid()}"
    roles = set(psql(None, "-Atc", "select rolname from pg_roles").stdout.split())
    databases = set(psql(None, "-Atc", "select datname from pg_database").stdout.split())
    # Only what the history itself creates is dropped afterwards: other sessions (a test run)
    # may create databases and roles meanwhile.
    made_dbs, made_roles = set(), set()
    psql(None, "-c", f"drop database if exists {db}")
    psql(None, "-c", f"create database {db}")
    errors = []
    try:
        for path, runs_as in files:
            text = texts(path)
            made_dbs.update(n.lower() for n in CREATES_DATABASE.findall(text))
            made_roles.update(n.lower() for _, n in CREATES_ROLE.findall(text))
            if runs_as == "transaction" or (runs_as == "transaction-except-concurrent"
                                            and not NON_TRANSACTIONAL.search(text)):
                r = psql(db, "--single-transaction", "-f", "-", stdin=text)
            elif runs_as == "one-query" and len(text.encode()) < 100_000:
                r = psql(db, "-c", text)
            elif runs_as == "one-query":
                r = psql(db, "--single-transaction", "-f", "-", stdin=text)
            else:
                r = psql(db, "-f", "-", stdin=text)
            err = r.stderr.strip()
            errors.append(None if r.returncode == 0 else (err.splitlines()[-1] if err else f"exit {r.returncode}"))
    finally:
        psql(None, "-c", f"drop database if exists {db} with (force)")
        new_dbs = set(psql(None, "-Atc", "select datname from pg_database").stdout.split()) - databases - {db}
        for other in new_dbs & made_dbs:
            psql(None, "-c", f'drop database if exists "{other}" with (force)')
        new_roles = set(psql(None, "-Atc", "select rolname from pg_roles").stdout.split()) - roles
        for role in new_roles & made_roles:
            psql(None, "-c", f'drop role if exists "{role}"')
    return errors


executed = collections.Counter()
not_executed = collections.Counter()
exec_failures = []


def execute(src, dst, fixed_keys, made, new_origin):
    """Runs the history as written, then fixed (with the fixes' new migrations), and counts the
    fixes in the files that ran as written; a fixed file, or a new migration of a fix, that then
    fails is a fix that does not run where it is pasted."""
    out = subprocess.run([binary, "lint", dst, "--list-files", "--format", "json"], capture_output=True, text=True)
    files = [(f["path"], f["runs_as"]) for f in json.loads(out.stdout)["files"] if f["role"] != "skipped"]
    new_files = {path for _, kind, path in made if kind == "new"}

    def read(path):
        with open(path, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
        # goose and dbmate keep the down migration in the same file: only the up part runs.
        down = DOWN_SECTION.search(text)
        return text[: down.start()] if down else text

    name = os.path.basename(src)
    original = [(p, r) for p, r in files if p not in new_files]
    before = dict(zip((p for p, _ in original), run_history(original, lambda p: read(p.replace(dst, src, 1)))))
    # Each new migration of a fix runs right after the file of its finding (the migration the
    # fix asks for is the next one, not one after the rest of the history).
    runs_as = dict(files)
    fixed_order = []
    for p, r in original:
        fixed_order.append((p, r))
        fixed_order.extend((n, runs_as.get(n, r)) for n, o in new_origin.items() if o == p)
    after = dict(zip((p for p, _ in fixed_order), run_history(fixed_order, read)))
    ran = {p for p, e in before.items() if e is None}
    for (rule, path), n in fixed_keys.items():
        (executed if path in ran else not_executed)[rule] += n
    for path, f in after.items():
        # A new migration of a fix counts when the file it came from ran as written.
        if f is not None and (before.get(path) is None if path not in new_files else new_origin[path] in ran):
            n = sum(v for (_, p), v in fixed_keys.items() if p == path)
            exec_failures.append(f"{path.replace(dst, name, 1)} ({'new migration of a fix' if path in new_files else f'{n} fixes'}): {f}")
    print(f"{name}: {len(ran)}/{len(original)} files run as written", flush=True)


def offset(lines, line, column):
    """Byte-free offset into the text (a str) of a 1-based line and character column."""
    return sum(len(l) for l in lines[: line - 1]) + column - 1


FAILS = ("concurrent-in-transaction", "syntax-error")


def new_migration(finding_path, n):
    """A path for a new migration beside `finding_path`, sorting after it, and its header."""
    d, name = os.path.split(finding_path)
    with open(finding_path, encoding="utf-8", errors="replace") as fh:
        head = fh.read(400)
    header = ""
    if "+goose Up" in head:
        header = "-- +goose Up\n"
    elif "migrate:up" in head:
        header = "-- migrate:up\n"
    elif head.lower().startswith("--liquibase formatted sql"):
        header = f"--liquibase formatted sql\n--changeset dbwarden:fix-{n:06d}\n"
    if name == "migration.sql":  # Prisma / folder-per-migration layouts
        parent, folder = os.path.split(d)
        digits = len(re.match(r"\d*", folder).group(0)) or 14
        return os.path.join(parent, f"{'9' * digits}_dbwarden_fix_{n:06d}", "migration.sql"), header
    m = re.match(r"([Vv])?(\d*)", name)
    suffix = ".up.sql" if name.endswith(".up.sql") else ".sql"
    if not m.group(2):  # no version: a name that sorts after the file's
        return os.path.join(d, f"{name[:-4]}~zz_dbwarden_fix_{n:06d}{suffix}"), header
    digits = len(m.group(2))
    if m.group(1):
        return os.path.join(d, f"V{'9' * digits}__dbwarden_fix_{n:06d}{suffix}"), header
    return os.path.join(d, f"{'9' * digits}_dbwarden_fix_{n:06d}{suffix}"), header


emitted = collections.Counter()
emitted_safe = collections.Counter()
fails = collections.Counter()
fail_examples = []
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
            if fix and fix.get("edits"):
                emitted[f["rule"]] += 1
                if fix.get("applicability") == "safe":
                    emitted_safe[f["rule"]] += 1
            if fix and fix.get("applicability") == "safe" and fix.get("edits"):
                by_file[f["file"]].append(f)
        fixed_keys = collections.Counter()
        made = []  # (rule, kind, path): the files each applied fix edited or created
        new_origin = {}  # a new migration of a fix -> the file of its finding
        n_new = 0
        for path, findings in by_file.items():
            with open(path, encoding="utf-8", errors="surrogateescape", newline="") as fh:
                text = fh.read()
            lines = text.splitlines(keepends=True)
            spans = []
            for f in findings:
                edits, added = [], []
                for e in f["fix_edits"]["edits"]:
                    if "line" not in e:
                        added.append(e["text"])
                        continue
                    a, b = offset(lines, e["line"], e["column"]), offset(lines, e["end_line"], e["end_column"])
                    edits.append((a, b, e["text"]))
                if not edits and not added:
                    continue
                if any(a < y and x < b or (a == b == x) for a, b, _ in edits for x, y, _ in spans):
                    continue
                spans.extend(edits)
                applied[f["rule"]] += 1
                fixed_keys[(f["rule"], path)] += 1
                if edits:
                    made.append((f["rule"], "edited", path))
                for t in added:
                    n_new += 1
                    new_path, header = new_migration(path, n_new)
                    os.makedirs(os.path.dirname(new_path), exist_ok=True)
                    with open(new_path, "w", encoding="utf-8") as fh:
                        fh.write(header + t + "\n")
                    made.append((f["rule"], "new", new_path))
                    new_origin[new_path] = path
            for a, b, t in sorted(spans, key=lambda s: (s[0], s[1]), reverse=True):
                text = text[:a] + t + text[b:]
            with open(path, "w", encoding="utf-8", errors="surrogateescape", newline="") as fh:
                fh.write(text)
        if args.execute and fixed_keys:
            execute(src, dst, fixed_keys, made, new_origin)
        before = collections.Counter((f["rule"], f["file"]) for fs in by_file.values() for f in fs)
        after = collections.Counter()
        after_list = collections.defaultdict(list)
        after_findings = lint(dst)
        for f in after_findings:
            after[(f["rule"], f["file"])] += 1
            after_list[(f["rule"], f["file"])].append(f)
        # Findings of a fixed rule in a fixed file, beyond those that had no safe fix.
        orig = collections.Counter()
        for f in lint(src):
            orig[(f["rule"], f["file"].replace(src, dst))] += 1
        fixed_files = {path for (_, path) in fixed_keys} | {p for (_, k, p) in made if k == "new"}
        for key, n in after.items():
            if key[1] in fixed_files and n > orig[key]:
                introduced[key[0]] += n - orig[key]
                for f in after_list[key][:1]:
                    introduced_examples.append(f"{os.path.relpath(f['file'], tmp)}:{f['line']}: [{f['rule']}] {f['message'][:110]}")
        # A fix that does not run where it lands: the re-lint refuses its new file, or finds more
        # refusals in the file it edited than the original had.
        refused = collections.Counter()
        for f in after_findings:
            if f["rule"] in FAILS:
                refused[f["file"]] += 1
        orig_refused = collections.Counter()
        for (rule, file), n in orig.items():
            if rule in FAILS:
                orig_refused[file] += n
        counted = set()
        for rule, kind, path in made:
            bad = refused[path] > (0 if kind == "new" else orig_refused[path])
            if bad and (rule, path) not in counted:
                counted.add((rule, path))
                fails[rule] += 1
                fail_examples.append(f"{rule}: {os.path.relpath(path, tmp)} ({kind})")
        for key, n in fixed_keys.items():
            left = max(0, after[key] - (orig[key] - n))
            if left > 0:
                remaining[key[0]] += left
                for f in after_list[key][:1]:
                    examples[key[0]].append(f"{os.path.relpath(f['file'], tmp)}:{f['line']}: {f['message'][:120]}")

print(f"{'rule':36} {'fixes emitted':>14} {'safe':>6} {'applied':>8} {'not runnable':>13} {'findings left':>14}")
for rule in sorted(emitted, key=lambda r: -emitted[r]):
    print(f"{rule:36} {emitted[rule]:>14} {emitted_safe[rule]:>6} {applied[rule]:>8} {fails[rule]:>13} {remaining[rule]:>14}")
print(f"{'total':36} {sum(emitted.values()):>14} {sum(emitted_safe.values()):>6} {sum(applied.values()):>8} {sum(fails.values()):>13} {sum(remaining.values()):>14}")
for e in fail_examples[: args.show * 2]:
    print("   not runnable:", e)
if args.execute:
    print(f"\nexecuted on PostgreSQL: {sum(executed.values())} fixes in files that run as written "
          f"({sum(not_executed.values())} more in files that fail as written); "
          f"fixed files that failed: {len(exec_failures)}")
    for rule in sorted(executed, key=lambda r: -executed[r]):
        print(f"  {rule:36} {executed[rule]:>6}")
    for e in exec_failures:
        print("  FAILED", e)
print(f"findings of other rules the fixes brought in: {sum(introduced.values())} {dict(introduced)}")
for e in introduced_examples[: args.show * 2]:
    print("  ", e)
for rule, ex in examples.items():
    print(f"\n{rule}:")
    for e in ex[: args.show]:
        print("  ", e)
