#!/usr/bin/env bash
# Times `dbwarden audit` on a database with 5,000 tables and 20,000 indexes (a primary key and
# three more indexes per table, a foreign key per table) on the local server. Target: under 5 s.
# Not part of `cargo test`.
#
#   benches/audit_5000_tables.sh            # builds the database once, then times 3 runs
#   KEEP=1 benches/audit_5000_tables.sh     # keep the database afterwards
#
# Environment: PGHOST (127.0.0.1), PGPORT (5432), PGUSER (postgres); DBWARDEN, the binary
# (default target/release/dbwarden, else target/debug/dbwarden); TABLES (5000).
set -euo pipefail
cd "$(dirname "$0")/.."
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
TABLES="${TABLES:-5000}"
DB="dbwarden_bench_audit_${TABLES}"
BIN="${DBWARDEN:-}"
if [[ -z "$BIN" ]]; then
    if [[ -x target/release/dbwarden ]]; then BIN=target/release/dbwarden; else BIN=target/debug/dbwarden; fi
fi
[[ -x "$BIN" ]] || { echo "build dbwarden first (cargo build)"; exit 2; }

exists=$(psql -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname = '$DB'")
if [[ "$exists" != 1 ]]; then
    echo "building $DB: $TABLES tables, $((TABLES * 4)) indexes ..."
    start=$(date +%s)
    psql -q -d postgres -c "CREATE DATABASE $DB"
    # One statement per transaction (\gexec in autocommit): one transaction holding 25,000 new
    # relations would exceed the shared lock table.
    psql -q -d "$DB" -v ON_ERROR_STOP=1 <<SQL
SELECT format('CREATE TABLE t%s (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, parent_id bigint %s,
               a integer NOT NULL, b text, c timestamptz NOT NULL DEFAULT now(), deleted_at timestamptz)',
              g, CASE WHEN g > 1 THEN format('REFERENCES t%s (id)', g - 1) ELSE '' END)
FROM generate_series(1, $TABLES) g
\gexec
SELECT format('CREATE INDEX t%s_parent_id_idx ON t%s (parent_id)', g, g) FROM generate_series(1, $TABLES) g
\gexec
SELECT format('CREATE INDEX t%s_a_idx ON t%s (a)', g, g) FROM generate_series(1, $TABLES) g
\gexec
SELECT format('CREATE INDEX t%s_b_c_idx ON t%s (b, c) WHERE deleted_at IS NULL', g, g) FROM generate_series(1, $TABLES) g
\gexec
SQL
    echo "built in $(( $(date +%s) - start )) s"
fi
psql -d "$DB" -Atc "SELECT 'tables: ' || count(*) FILTER (WHERE relkind = 'r') || ', indexes: ' || count(*) FILTER (WHERE relkind = 'i') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'"
echo "binary: $BIN"
for run in 1 2 3; do
    s=$(date +%s.%N)
    set +e
    "$BIN" audit --database-url "postgres://$PGUSER@$PGHOST:$PGPORT/$DB" --format json --output /tmp/dbwarden_bench_audit.json
    code=$?
    set -e
    e=$(date +%s.%N)
    findings=$(python3 -c 'import json; print(len(json.load(open("/tmp/dbwarden_bench_audit.json"))["findings"]))' 2>/dev/null || echo "?")
    printf 'run %d: %.2f s (exit %d, %s findings)\n' "$run" "$(echo "$e - $s" | bc)" "$code" "$findings"
done
if [[ -z "${KEEP:-}" ]]; then
    psql -q -d postgres -c "DROP DATABASE $DB WITH (FORCE)"
fi
