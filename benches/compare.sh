#!/usr/bin/env bash
# Times `dbwarden lint --format json` against `squawk --reporter json` on the shared corpus,
# one after the other in one run, with wall-clock time and peak memory (GNU time).
# Usage: benches/compare.sh [CORPUS_DIR] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${1:-../shared/corpus}
runs=${2:-3}
command -v squawk >/dev/null || pip install -q squawk-cli
cargo build --release -q
bin=${CARGO_TARGET_DIR:-target}/release/dbwarden

# The same file list for both tools: what dbwarden lints (migration order, down files skipped).
list=$(mktemp)
find "$corpus" -name '*.sql' ! -name '*.down.sql' ! -name '*.down.*.sql' ! -name 'down.sql' | sort > "$list"
echo "corpus: $(wc -l < "$list") files, $(tr '\n' '\0' < "$list" | du -ch --files0-from=- | tail -n1 | cut -f1)"
echo "machine: $(nproc) cores; dbwarden $($bin --version); squawk $(squawk --version 2>&1 | head -n1)"

median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

measure() { # name, command...; the median wall time goes to /tmp/compare.$name
  local name=$1; shift
  : > "/tmp/compare.$name"
  for i in $(seq 1 "$runs"); do
    /usr/bin/time -f "%e %M" -o /tmp/compare.time "$@" > /dev/null 2>/tmp/compare.err || true
    # GNU time puts "Command exited with non-zero status 1" (findings) before its own line.
    read -r secs kb < <(tail -n 1 /tmp/compare.time)
    printf '%-9s run %d: %6.2f s  peak %6.1f MB\n' "$name" "$i" "$secs" "$(echo "$kb / 1024" | bc -l)"
    echo "$secs" >> "/tmp/compare.$name"
  done
  median < "/tmp/compare.$name" > "/tmp/compare.$name.median"
}

measure dbwarden "$bin" lint --format json "$corpus"
# squawk takes the files as arguments.
mapfile -t files < "$list"
measure squawk squawk --reporter json "${files[@]}"
d=$(cat /tmp/compare.dbwarden.median); s=$(cat /tmp/compare.squawk.median)
printf 'median: dbwarden %s s, squawk %s s: dbwarden is %.1fx faster\n' "$d" "$s" "$(echo "$s / $d" | bc -l)"
rm -f "$list" /tmp/compare.dbwarden* /tmp/compare.squawk*
