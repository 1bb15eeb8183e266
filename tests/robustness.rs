//! The linter never panics: every truncation of tricky inputs lints without an internal error.

mod common;

const INPUTS: &[&str] = &[
    "CREATE TABLE t (id bigint PRIMARY KEY, a text DEFAULT 'x;y' CHECK (a <> ''), b int REFERENCES u (id) ON DELETE CASCADE);\nCREATE INDEX CONCURRENTLY i ON t USING gin (a) INCLUDE (b) WHERE b IS NOT NULL;\n",
    "DO $body$ BEGIN IF NOT EXISTS (SELECT 1) THEN CREATE INDEX x ON t (a); END IF; END $body$;\nALTER TABLE t ADD CONSTRAINT c FOREIGN KEY (b) REFERENCES u (id) NOT VALID, ALTER COLUMN a TYPE varchar(10);\n",
    "-- +goose Up\n-- +goose StatementBegin\nCREATE FUNCTION f() RETURNS trigger AS $$ BEGIN RETURN NEW; END $$ LANGUAGE plpgsql;\n-- +goose StatementEnd\n-- +goose Down\nDROP TABLE t;\n",
    "COPY t (a, b) FROM stdin;\n1\tx\n\\.\n\\set ON_ERROR_STOP 1\nSELECT E'\\'', \"q\"\"uote\", $1, 'ünïcödé';\n/* nested /* comment */ */ VACUUM (FULL, ANALYZE) t;\n",
    "ALTER TABLE ONLY \"Ta ble\" ATTACH PARTITION p FOR VALUES FROM (1) TO (2);\nREINDEX (VERBOSE) TABLE CONCURRENTLY t;\nDROP INDEX CONCURRENTLY IF EXISTS i;\nCREATE RULE r AS ON INSERT TO t DO INSTEAD (INSERT INTO a VALUES (1); INSERT INTO b VALUES (2));\n",
    "-- dbwarden-ignore: drop-table -- reason\nDROP TABLE x;\n-- dbwarden-ignore-file: nope\nCREATE TABLE \"ü\" (\"ä\" int);\nCOMMENT ON TABLE \"ü\" IS 'PHI';\n",
];

#[test]
fn truncations_never_panic() {
    for input in INPUTS {
        let mut cuts: Vec<usize> = (0..=input.len()).filter(|&i| input.is_char_boundary(i)).collect();
        cuts.dedup();
        for cut in cuts {
            let sql = &input[..cut];
            let out = common::lint_sql(sql, None);
            assert!(!out.diagnostics.iter().any(|d| d.rule == "internal-error"), "internal error on {sql:?}");
            for d in &out.diagnostics {
                assert!(d.span.end <= sql.len() && d.span.start <= d.span.end, "bad span {:?} on {sql:?}", d.span);
            }
        }
    }
}

#[test]
fn garbage_never_panics() {
    let alphabet: Vec<char> = "();,'\"$E\\-/*\n\r\t abcCREATEINDEXALTERTABLEDO$$ü.:[]".chars().collect();
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..400 {
        let len = (seed % 120) as usize;
        let mut s = String::new();
        for _ in 0..len {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            s.push(alphabet[(seed % alphabet.len() as u64) as usize]);
        }
        let out = common::lint_sql(&s, None);
        assert!(!out.diagnostics.iter().any(|d| d.rule == "internal-error"), "internal error on {s:?}");
    }
}

/// Large `INSERT`s take the data-load path (no parse): every truncation and garbage tail still
/// lints without an internal error, and a statement the tokenizer rejects is still reported.
#[test]
fn data_loads_never_panic() {
    // With `$` the tokenizer checks the load; without, only the splitter does (the fast path).
    for dollar in [true, false] {
        let rows: Vec<String> = (0..150)
            .map(|i| {
                // Backslash escapes also send a load to the tokenizer: only with `$` here.
                let (d, e) = if dollar { (format!("$q${i};$q$"), "\\t") } else { (format!("'{i};'"), "t") };
                format!("({i}, 'o''k {i}', E'{e}{i}', {d}, /* c{i} */ \"x\", 1.5e-{i}) -- r{i}\n")
            })
            .collect();
        let load =
            format!("CREATE INDEX i ON t (a);\nINSERT INTO t VALUES {};\nCREATE INDEX j ON t (b);\n", rows.join(","));
        assert!(load.len() > 8192);
        let cuts: Vec<usize> = (0..=load.len())
            .filter(|&i| load.is_char_boundary(i) && (i % 29 == 0 || i + 60 > load.len() || i < 80))
            .collect();
        for cut in cuts {
            let sql = &load[..cut];
            let out = common::lint_sql(sql, None);
            assert!(!out.diagnostics.iter().any(|d| d.rule == "internal-error"), "internal error at cut {cut}");
        }
        let out = common::lint_sql(&load, None);
        let rules: Vec<&str> = out.diagnostics.iter().map(|d| d.rule).collect();
        // The statements on both sides of the data load are linted.
        assert_eq!(rules.iter().filter(|r| **r == "index-not-concurrent").count(), 2, "{rules:?}");
        assert!(!rules.contains(&"syntax-error"), "{rules:?}");
        let bad = load.replace(if dollar { "E'\\t7'" } else { "E't7'" }, "E'\\u12'");
        assert_ne!(bad, load);
        let out = common::lint_sql(&bad, None);
        assert!(out.diagnostics.iter().any(|d| d.rule == "syntax-error"), "dollar {dollar}: {:?}", out.diagnostics);
    }
}
