#!/usr/bin/env bash
# Time and peak memory of dbwarden on the hostile inputs of issue 15 (items 1-3), at 1, 4 and
# 16 MB each: a one-line migration with a finding per statement (human output), inline
# suppressions, indexes on one table, tables referencing one table, `;` alone, and one logged
# query holding a long IN list.
#
#   benches/adversarial.sh [DBWARDEN_BINARY] [SIZES_MB...]
#
# Prints one line per input: size, seconds, peak RSS (MB), bytes of peak memory per input byte,
# and the output size. Needs GNU time (/usr/bin/time) and python3. DBWARDEN_BENCH_TIMEOUT bounds
# each run (default 600 s; a run cut short shows its time as >LIMIT).
set -euo pipefail
bin=${1:-target/release/dbwarden}
limit=${DBWARDEN_BENCH_TIMEOUT:-600}  # seconds per input
shift || true
sizes=("${@:-1 4 16}")
[ "${#sizes[@]}" -eq 1 ] && read -r -a sizes <<<"${sizes[0]}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

gen() { # gen KIND MB FILE
  python3 - "$1" "$2" "$3" <<'EOF'
import sys
kind, mb, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
target = mb << 20
out, size, i = [], 0, 0
def piece(i):
    if kind == "one-line":
        return f"CREATE INDEX i{i} ON t (a);"
    if kind == "suppressions":
        return f"-- dbwarden-ignore: drop-table -- old\nDROP TABLE IF EXISTS t{i};\n"
    if kind == "indexes":
        return f"CREATE INDEX CONCURRENTLY i{i} ON t (a);\n"
    if kind == "referrers":
        return f"CREATE TABLE c{i} (id int, p int REFERENCES p (id));\n"
    if kind == "semicolons":
        return ";" * 4096
    if kind == "in-list":
        return f"{i},"
head = {"indexes": "CREATE TABLE t (id int PRIMARY KEY, a int);\n",
        "referrers": "CREATE TABLE p (id int PRIMARY KEY);\n",
        "in-list": "2026-11-22 03:01:47.659 UTC [2354] LOG:  duration: 1.0 ms  statement: SELECT 1 FROM t WHERE x IN ("}.get(kind, "")
out.append(head)
size = len(head)
while size < target:
    p = piece(i)
    out.append(p)
    size += len(p)
    i += 1
out.append("0)\n" if kind == "in-list" else "\n")
open(path, "w").write("".join(out))
EOF
}

printf '%-13s %5s %8s %9s %8s %12s\n' input MB seconds peak_MB B/B output_B
for kind in one-line suppressions indexes referrers semicolons in-list; do
  for mb in "${sizes[@]}"; do
    if [ "$kind" = in-list ]; then f="$work/$kind-$mb.log"; else f="$work/$kind-$mb.sql"; fi
    gen "$kind" "$mb" "$f"
    if [ "$kind" = in-list ]; then args=(lint --queries "$f" --format json); else args=(lint "$f" --format human); fi
    # The output is counted, not kept (the old code printed tens of GB for these).
    # Exit 1 (findings) and a time-out are results here, not failures of the script.
    set +o pipefail
    outb=$(NO_COLOR=1 /usr/bin/time -f '%e %M' -o "$work/time" timeout "$limit" "$bin" "${args[@]}" 2>/dev/null | wc -c)
    set -o pipefail
    read -r secs kb < <(tail -n 1 "$work/time")
    bytes=$(stat -c %s "$f")
    if grep -q "Command terminated by signal\|Command exited with non-zero status 124" "$work/time"; then secs=">$limit"; fi
    awk -v k="$kind" -v mb="$mb" -v s="$secs" -v kb="$kb" -v b="$bytes" -v o="$outb" \
      'BEGIN { printf "%-13s %5d %8s %9.0f %8.1f %12d\n", k, mb, s, kb / 1024, kb * 1024 / b, o }'
  done
done
