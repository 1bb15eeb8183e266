//! Loads a live database's catalog into the same [`Schema`] model the migration replay builds,
//! so the same schema rules judge both.
//!
//! One set-based query per kind of object (tables, columns, constraints, indexes, policies,
//! triggers, sequences), never one per table, all in one `READ ONLY` transaction with a
//! statement timeout. Every query reads catalogs and statistics views only, so a role with
//! `CONNECT` and `pg_read_all_stats` suffices (a sequence's last value also needs `SELECT` or
//! `USAGE` on it; without, the sequence is loaded as unreadable). System schemas
//! (`pg_catalog`, `information_schema`, `pg_toast*`, temporary schemas) and objects owned by
//! extensions are left out.

use std::collections::HashMap;

use postgres::types::FromSql;
use postgres::{Client, Row};

use super::{
    Column, Constraint, Grant, Index, IndexStats, LiveInfo, Origin, Policy, QualName, RewriteRule, Schema, Sequence,
    Table, TableStats, Trigger,
};
use crate::db::{DbError, error_text};
use crate::parse::ir::{
    ConstraintKind, ForeignKey, Generated, IndexKey, ObjName, Privileges, RefAction, RuleEvent, TriggerEvents,
    TriggerSpec, TriggerTiming, TypeName,
};

/// What to load.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Only these schemas (empty: every schema but the system ones).
    pub schemas: Vec<String>,
    /// `statement_timeout` for the catalog queries, in PostgreSQL syntax (`30s`).
    pub statement_timeout: String,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self { schemas: Vec::new(), statement_timeout: "30s".into() }
    }
}

/// The schemas an audit reads: not the system ones, optionally only those asked for. Expects
/// `n` (pg_namespace) in scope; `$1` is the list of schemas or NULL.
const SCHEMA_FILTER: &str =
    "n.nspname <> 'information_schema' AND n.nspname !~ '^pg_' AND ($1::text[] IS NULL OR n.nspname = ANY($1))";

/// Not owned by an extension. Expects `c` (pg_class) in scope.
const NOT_EXTENSION: &str = "NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_class'::regclass \
     AND e.objid = c.oid AND e.deptype = 'e')";

fn query_err(e: &postgres::Error) -> DbError {
    DbError::Query { message: format!("cannot read the catalog: {}", error_text(e)) }
}

/// Reads a result column by its name; a missing column or a type other than asked for is a
/// [`DbError`], not a panic.
trait Col {
    fn col<'a, T: FromSql<'a>>(&'a self, name: &str) -> Result<T, DbError>;
}

impl Col for Row {
    fn col<'a, T: FromSql<'a>>(&'a self, name: &str) -> Result<T, DbError> {
        self.try_get(name).map_err(|e| query_err(&e))
    }
}

/// `schema.table` as findings name it.
fn object(q: &QualName) -> String {
    format!("{}.{}", q.schema, q.name)
}

/// An `ObjName` as the migration model writes references: unqualified in `public`.
fn obj_name(schema: String, name: String) -> ObjName {
    ObjName { schema: (schema != "public").then_some(schema), name }
}

fn ref_action(c: &str) -> RefAction {
    match c {
        "r" => RefAction::Restrict,
        "c" => RefAction::Cascade,
        "n" => RefAction::SetNull,
        "d" => RefAction::SetDefault,
        _ => RefAction::NoAction,
    }
}

/// Loads the catalog in one read-only transaction.
pub fn load(client: &mut Client, opts: &LoadOptions) -> Result<Schema, DbError> {
    let mut tx = client.build_transaction().read_only(true).start().map_err(|e| query_err(&e))?;
    tx.query("SELECT set_config('statement_timeout', $1, true)", &[&opts.statement_timeout])
        .map_err(|e| query_err(&e))?;
    let schemas: Option<Vec<String>> = (!opts.schemas.is_empty()).then(|| opts.schemas.clone());
    let mut schema = Schema::default();

    let info = tx
        .query_one(
            "SELECT current_database()::text AS database, current_setting('server_version') AS server_version, \
                    current_setting('server_version_num')::int AS server_version_num, \
                    (SELECT sum(relpages)::bigint FROM pg_class) * current_setting('block_size')::bigint AS size_bytes, \
                    (SELECT d.stats_reset::text FROM pg_stat_database d WHERE d.datname = current_database()) \
                        AS stats_reset, \
                    now()::text AS read_at",
            &[],
        )
        .map_err(|e| query_err(&e))?;
    let mut live = LiveInfo {
        database: info.col("database")?,
        server_version: info.col("server_version")?,
        server_version_num: info.col("server_version_num")?,
        size_bytes: info.col("size_bytes")?,
        stats_reset: info.col("stats_reset")?,
        read_at: info.col("read_at")?,
        schemas: Vec::new(),
    };
    for row in tx
        .query(
            &format!("SELECT n.nspname::text AS nspname FROM pg_namespace n WHERE {SCHEMA_FILTER} ORDER BY nspname"),
            &[&schemas],
        )
        .map_err(|e| query_err(&e))?
    {
        live.schemas.push(row.col("nspname")?);
    }
    // A schema asked for and not found would make a clean audit of nothing.
    if let Some(missing) = opts.schemas.iter().find(|s| !live.schemas.contains(s)) {
        let why = if missing == "information_schema" || missing.starts_with("pg_") {
            "is a system schema, which audit does not read"
        } else {
            "does not exist"
        };
        return Err(DbError::Query {
            message: format!("schema `{missing}` {why} in database `{}` (--schema)", live.database),
        });
    }
    schema.schemas.clone_from(&live.schemas);

    // Tables (ordinary and partitioned), with their partition parent, comment and statistics.
    let sql = format!(
        "SELECT c.oid AS relid, n.nspname::text AS nspname, c.relname::text AS relname, \
                c.relkind = 'p' AS partitioned, c.relrowsecurity, c.relforcerowsecurity, \
                CASE WHEN c.reltuples < 0 THEN NULL ELSE c.reltuples::float8 END AS reltuples, \
                (c.relpages::bigint + coalesce(tc.relpages, 0)) * current_setting('block_size')::bigint AS total_bytes, \
                d.description, pn.nspname::text AS parent_nspname, pc.relname::text AS parent_relname, \
                pg_stat_get_live_tuples(c.oid) AS live_rows, pg_stat_get_mod_since_analyze(c.oid) AS mod_since_analyze, \
                pg_stat_get_last_analyze_time(c.oid)::text AS last_analyze, \
                pg_stat_get_last_autoanalyze_time(c.oid)::text AS last_autoanalyze, \
                pg_stat_get_numscans(c.oid) AS seq_scan, pg_get_userbyid(c.relowner)::text AS owner \
         FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN pg_class tc ON tc.oid = c.reltoastrelid \
         LEFT JOIN pg_description d ON d.classoid = 'pg_class'::regclass AND d.objoid = c.oid AND d.objsubid = 0 \
         LEFT JOIN pg_inherits ih ON c.relispartition AND ih.inhrelid = c.oid \
         LEFT JOIN pg_class pc ON pc.oid = ih.inhparent \
         LEFT JOIN pg_namespace pn ON pn.oid = pc.relnamespace \
         WHERE c.relkind IN ('r', 'p') AND {SCHEMA_FILTER} AND {NOT_EXTENSION}"
    );
    let mut by_oid: HashMap<u32, QualName> = HashMap::new();
    for row in tx.query(&sql, &[&schemas]).map_err(|e| query_err(&e))? {
        let oid: u32 = row.col("relid")?;
        let name = QualName { schema: row.col("nspname")?, name: row.col("relname")? };
        let origin = Origin::Catalog { object: object(&name) };
        let mut t = Table::new(name.clone(), origin);
        t.partitioned = row.col("partitioned")?;
        t.rls_enabled = row.col("relrowsecurity")?;
        t.rls_forced = row.col("relforcerowsecurity")?;
        t.comment = row.col("description")?;
        let parent: (Option<String>, Option<String>) = (row.col("parent_nspname")?, row.col("parent_relname")?);
        if let (Some(s), Some(n)) = parent {
            t.partition_of = Some(QualName { schema: s, name: n });
        }
        t.stats = Some(TableStats {
            rows: row.col("reltuples")?,
            total_bytes: row.col("total_bytes")?,
            live_rows: row.col("live_rows")?,
            mod_since_analyze: row.col("mod_since_analyze")?,
            last_analyze: row.col("last_analyze")?,
            last_autoanalyze: row.col("last_autoanalyze")?,
            seq_scan: row.col("seq_scan")?,
        });
        t.owner = row.col("owner")?;
        by_oid.insert(oid, name.clone());
        schema.tables.insert(name, t);
    }

    // Columns, by attribute number (constraints name their columns by number).
    let sql = format!(
        "SELECT a.attrelid AS relid, a.attnum, a.attname::text AS attname, \
                format_type(a.atttypid, a.atttypmod) AS type_name, a.attnotnull, \
                pg_get_expr(ad.adbin, ad.adrelid) AS default_expr, a.attidentity::text AS attidentity, \
                a.attgenerated::text AS attgenerated, a.attcollation \
         FROM pg_attribute a \
         JOIN pg_class c ON c.oid = a.attrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum \
         WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p') AND {SCHEMA_FILTER} \
         ORDER BY a.attrelid, a.attnum"
    );
    let mut attnames: HashMap<(u32, i16), String> = HashMap::new();
    let mut attcollations: HashMap<(u32, i16), u32> = HashMap::new();
    for row in tx.query(&sql, &[&schemas]).map_err(|e| query_err(&e))? {
        let oid: u32 = row.col("relid")?;
        let Some(tname) = by_oid.get(&oid) else { continue };
        let Some(t) = schema.tables.get_mut(tname) else { continue };
        let name: String = row.col("attname")?;
        let identity: String = row.col("attidentity")?;
        let generated: String = row.col("attgenerated")?;
        let generated = match (identity.as_str(), generated.as_str()) {
            ("a" | "d", _) => Some(Generated::Identity),
            (_, "s") => Some(Generated::Stored),
            (_, "v") => Some(Generated::Virtual),
            _ => None,
        };
        let default: Option<String> = row.col("default_expr")?;
        let attnum: i16 = row.col("attnum")?;
        attnames.insert((oid, attnum), name.clone());
        attcollations.insert((oid, attnum), row.col("attcollation")?);
        t.columns.push(Column {
            name,
            ty: TypeName::new(&row.col::<String>("type_name")?),
            not_null: row.col("attnotnull")?,
            default: if generated.is_some() { None } else { default },
            generated,
            origin: t.created.clone(),
        });
    }

    // Constraints (not the copies a partition inherits from its parent's).
    let sql = format!(
        "SELECT co.conrelid AS relid, co.conname::text AS conname, co.contype::text AS contype, co.convalidated, \
                coalesce(co.conkey, '{{}}') AS conkey, fn.nspname::text AS ref_nspname, fc.relname::text AS ref_relname, \
                ARRAY(SELECT fa.attname::text FROM unnest(co.confkey) WITH ORDINALITY k(num, ord) \
                      JOIN pg_attribute fa ON fa.attrelid = co.confrelid AND fa.attnum = k.num ORDER BY k.ord) \
                    AS ref_columns, \
                co.confdeltype::text AS confdeltype, co.confupdtype::text AS confupdtype, \
                CASE WHEN co.contype = 'c' THEN pg_get_constraintdef(co.oid, true) END AS check_def \
         FROM pg_constraint co \
         JOIN pg_class c ON c.oid = co.conrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN pg_class fc ON fc.oid = co.confrelid \
         LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace \
         WHERE co.contype IN ('p', 'u', 'f', 'c', 'x') AND co.conparentid = 0 AND {SCHEMA_FILTER} \
         ORDER BY co.conrelid, co.conname"
    );
    for row in tx.query(&sql, &[&schemas]).map_err(|e| query_err(&e))? {
        let oid: u32 = row.col("relid")?;
        let Some(tname) = by_oid.get(&oid) else { continue };
        let name: String = row.col("conname")?;
        let contype: String = row.col("contype")?;
        let keys: Vec<i16> = row.col("conkey")?;
        let columns: Vec<String> = keys.iter().filter_map(|k| attnames.get(&(oid, *k)).cloned()).collect::<Vec<_>>();
        let kind = match contype.as_str() {
            "p" => ConstraintKind::PrimaryKey { columns, using_index: None },
            "u" => ConstraintKind::Unique { columns, using_index: None },
            "x" => ConstraintKind::Exclude,
            "c" => {
                let def: String = row.col::<Option<String>>("check_def")?.unwrap_or_default();
                let expr = def.strip_prefix("CHECK ").unwrap_or(&def);
                let expr = expr.strip_suffix(" NOT VALID").unwrap_or(expr);
                let expr = expr.strip_suffix(" NO INHERIT").unwrap_or(expr);
                ConstraintKind::Check { expr: expr.to_owned() }
            }
            _ => {
                let (Some(rs), Some(rn)) = (row.col("ref_nspname")?, row.col("ref_relname")?) else {
                    continue;
                };
                ConstraintKind::ForeignKey(ForeignKey {
                    columns,
                    ref_table: obj_name(rs, rn),
                    ref_columns: row.col("ref_columns")?,
                    on_delete: ref_action(&row.col::<String>("confdeltype")?),
                    on_update: ref_action(&row.col::<String>("confupdtype")?),
                })
            }
        };
        let origin = Origin::Catalog { object: format!("{}.{name}", object(tname)) };
        if let Some(t) = schema.tables.get_mut(tname) {
            t.constraints.push(Constraint { name, kind, validated: row.col("convalidated")?, origin });
        }
    }

    // Indexes (not the indexes of partitions that belong to a partitioned index). A key is a
    // column, or an expression; a column with a collation other than its own is an expression
    // too (`code COLLATE "C"` does not serve lookups by the column's collation). Column keys are
    // named from the columns read above; only expression keys are printed by the server.
    let mut exprs: HashMap<(u32, usize), String> = HashMap::new();
    let sql = format!(
        "SELECT i.indexrelid, k.ord::int AS ord, pg_get_indexdef(i.indexrelid, k.ord::int, true) AS expr \
         FROM pg_index i \
         JOIN pg_class c ON c.oid = i.indrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY k(num, ord) \
         WHERE k.num = 0 AND c.relkind IN ('r', 'p') AND {SCHEMA_FILTER}"
    );
    for row in tx.query(&sql, &[&schemas]).map_err(|e| query_err(&e))? {
        let ord = usize::try_from(row.col::<i32>("ord")?).unwrap_or(1);
        exprs.insert((row.col("indexrelid")?, ord.saturating_sub(1)), row.col("expr")?);
    }
    let mut collations: HashMap<u32, String> = HashMap::new();
    for row in
        tx.query("SELECT oid, quote_ident(collname) AS collname FROM pg_collation", &[]).map_err(|e| query_err(&e))?
    {
        collations.insert(row.col("oid")?, row.col("collname")?);
    }
    let sql = format!(
        "SELECT i.indexrelid, i.indrelid AS relid, ic.relname::text AS relname, i.indisunique, i.indisvalid, \
                am.amname::text AS amname, i.indnkeyatts::int AS indnkeyatts, \
                i.indkey::int2[] AS indkey, i.indcollation::oid[] AS indcollation, \
                pg_get_expr(i.indpred, i.indrelid, true) AS predicate, co.conname::text AS conname, \
                ic.relpages::bigint * current_setting('block_size')::bigint AS bytes, \
                pg_stat_get_numscans(i.indexrelid) AS scans, \
                i.indclass::text || '/' || i.indcollation::text || '/' || i.indoption::text AS key_options \
         FROM pg_index i \
         JOIN pg_class ic ON ic.oid = i.indexrelid \
         JOIN pg_am am ON am.oid = ic.relam \
         JOIN pg_class c ON c.oid = i.indrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN pg_constraint co ON co.conrelid = i.indrelid AND co.conindid = i.indexrelid \
                                   AND co.contype IN ('p', 'u', 'x') \
         WHERE c.relkind IN ('r', 'p') AND NOT ic.relispartition AND {SCHEMA_FILTER}"
    );
    for row in tx.query(&sql, &[&schemas]).map_err(|e| query_err(&e))? {
        let table_oid: u32 = row.col("relid")?;
        let Some(tname) = by_oid.get(&table_oid) else { continue };
        let name = QualName { schema: tname.schema.clone(), name: row.col("relname")? };
        let nkey = usize::try_from(row.col::<i32>("indnkeyatts")?).unwrap_or(0);
        let index_oid: u32 = row.col("indexrelid")?;
        let attnums: Vec<i16> = row.col("indkey")?;
        let index_collations: Vec<u32> = row.col("indcollation")?;
        let mut keys = Vec::new();
        let mut include = Vec::new();
        for (k, num) in attnums.iter().enumerate() {
            let key = if *num == 0 {
                IndexKey::Expr(exprs.get(&(index_oid, k)).cloned().unwrap_or_default())
            } else {
                let name = attnames.get(&(table_oid, *num)).cloned().unwrap_or_default();
                let own = attcollations.get(&(table_oid, *num)).copied().unwrap_or(0);
                match index_collations.get(k).copied().filter(|c| *c != 0 && *c != own) {
                    Some(c) => IndexKey::Expr(format!(
                        "{} COLLATE {}",
                        crate::parse::ir::quote_ident(&name),
                        collations.get(&c).map_or("?", String::as_str)
                    )),
                    None => IndexKey::Column(name),
                }
            };
            if k < nkey {
                keys.push(key);
            } else {
                let (IndexKey::Column(c) | IndexKey::Expr(c)) = key;
                include.push(c);
            }
        }
        let bytes: i64 = row.col("bytes")?;
        if let Some(t) = schema.tables.get_mut(tname)
            && let Some(s) = &mut t.stats
        {
            s.total_bytes += bytes;
        }
        let idx = Index {
            origin: Origin::Catalog { object: format!("{}.{}", object(tname), name.name) },
            name: name.clone(),
            table: tname.clone(),
            unique: row.col("indisunique")?,
            method: row.col("amname")?,
            keys,
            include,
            predicate: row.col("predicate")?,
            valid: row.col("indisvalid")?,
            constraint: row.col("conname")?,
            stats: Some(IndexStats { scans: row.col("scans")?, bytes, key_options: row.col("key_options")? }),
        };
        schema.indexes.insert(name, idx);
    }

    let sql = format!(
        "SELECT p.polrelid AS relid, p.polname::text AS polname, NOT p.polpermissive AS restrictive FROM pg_policy p \
         JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE {SCHEMA_FILTER} ORDER BY relid, polname"
    );
    for row in tx.query(&sql, &[&schemas]).map_err(|e| query_err(&e))? {
        let Some(tname) = by_oid.get(&row.col::<u32>("relid")?) else { continue };
        if let Some(t) = schema.tables.get_mut(tname) {
            let origin = t.created.clone();
            t.policies.push(Policy { name: row.col("polname")?, restrictive: row.col("restrictive")?, origin });
        }
    }

    // Privileges granted to roles other than the owner (`PUBLIC` is grantee 0).
    let sql = format!(
        "SELECT c.oid AS relid, \
                CASE WHEN a.grantee = 0 THEN 'public' ELSE pg_get_userbyid(a.grantee)::text END AS grantee_name, \
                a.privilege_type \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(c.relacl) a \
         WHERE c.relkind IN ('r', 'p') AND a.grantee <> c.relowner AND {SCHEMA_FILTER} ORDER BY relid, grantee_name"
    );
    for row in tx.query(&sql, &[&schemas]).map_err(|e| query_err(&e))? {
        let Some(tname) = by_oid.get(&row.col::<u32>("relid")?) else { continue };
        let Some(t) = schema.tables.get_mut(tname) else { continue };
        let grantee: String = row.col("grantee_name")?;
        let mut p = Privileges::default();
        match row.col::<String>("privilege_type")?.as_str() {
            "SELECT" => p.select = true,
            "INSERT" => p.insert = true,
            "UPDATE" => p.update = true,
            "DELETE" => p.delete = true,
            "TRUNCATE" => p.truncate = true,
            "REFERENCES" => p.references = true,
            "TRIGGER" => p.trigger = true,
            _ => {}
        }
        match t.grants.iter_mut().find(|g| g.grantee == grantee) {
            Some(g) => g.privileges = g.privileges.union(p),
            None => t.grants.push(Grant { grantee, privileges: p }),
        }
    }

    // Rewrite rules (not views' `_RETURN`).
    let sql = format!(
        "SELECT r.ev_class AS relid, r.rulename::text AS rulename, r.ev_type::text AS ev_type, r.is_instead, \
                r.ev_action::text = '<>' AS nothing, r.ev_qual::text <> '<>' AS conditional, \
                r.ev_enabled::text = 'D' AS disabled \
         FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE r.rulename <> '_RETURN' AND c.relkind IN ('r', 'p') AND {SCHEMA_FILTER} ORDER BY relid, rulename"
    );
    for row in tx.query(&sql, &[&schemas]).map_err(|e| query_err(&e))? {
        let Some(tname) = by_oid.get(&row.col::<u32>("relid")?) else { continue };
        let Some(t) = schema.tables.get_mut(tname) else { continue };
        let event = match row.col::<String>("ev_type")?.as_str() {
            "2" => RuleEvent::Update,
            "3" => RuleEvent::Insert,
            "4" => RuleEvent::Delete,
            _ => RuleEvent::Select,
        };
        let origin = t.created.clone();
        t.rewrite_rules.push(RewriteRule {
            name: row.col("rulename")?,
            event,
            instead: row.col("is_instead")?,
            nothing: row.col("nothing")?,
            conditional: row.col("conditional")?,
            disabled: row.col("disabled")?,
            origin,
        });
    }

    // Triggers the user created (not constraint triggers, not partitions' clones: `tgparentid`
    // is PostgreSQL 13+).
    let clones = if live.server_version_num >= 130_000 { "t.tgparentid = 0" } else { "true" };
    let sql = format!(
        "SELECT t.tgrelid AS relid, t.tgname::text AS tgname, fnn.nspname::text AS function_nspname, \
                f.proname::text AS function_name, t.tgtype::int AS tgtype, t.tgqual IS NOT NULL AS conditional, \
                t.tgenabled::text IN ('D', 'R') AS disabled FROM pg_trigger t \
         JOIN pg_proc f ON f.oid = t.tgfoid JOIN pg_namespace fnn ON fnn.oid = f.pronamespace \
         JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE NOT t.tgisinternal AND {clones} AND {SCHEMA_FILTER} ORDER BY relid, tgname"
    );
    for row in tx.query(&sql, &[&schemas]).map_err(|e| query_err(&e))? {
        let Some(tname) = by_oid.get(&row.col::<u32>("relid")?) else { continue };
        if let Some(t) = schema.tables.get_mut(tname) {
            let origin = t.created.clone();
            // tgtype bits: ROW 1, BEFORE 2, INSERT 4, DELETE 8, UPDATE 16, TRUNCATE 32, INSTEAD 64.
            let ty: i32 = row.col("tgtype")?;
            let timing = if ty & 64 != 0 {
                TriggerTiming::InsteadOf
            } else if ty & 2 != 0 {
                TriggerTiming::Before
            } else {
                TriggerTiming::After
            };
            let spec = TriggerSpec {
                timing,
                events: TriggerEvents {
                    insert: ty & 4 != 0,
                    delete: ty & 8 != 0,
                    update: ty & 16 != 0,
                    truncate: ty & 32 != 0,
                },
                for_each_row: ty & 1 != 0,
                conditional: row.col("conditional")?,
            };
            t.triggers.push(Trigger {
                name: row.col("tgname")?,
                function: Some(obj_name(row.col("function_nspname")?, row.col("function_name")?)),
                spec,
                disabled: row.col("disabled")?,
                origin,
            });
        }
    }

    // Sequences, with the column that owns them (serial: 'a', identity: 'i'). The last value of
    // an ascending `bigint` sequence with the default maximum, feeding a `bigint` column (or
    // none), is not read: it cannot come near 2^63, and reading it opens the sequence.
    let sql = format!(
        "SELECT n.nspname::text AS nspname, c.relname::text AS relname, format_type(s.seqtypid, NULL) AS type_name, \
                s.seqmin, s.seqmax, s.seqincrement, has_sequence_privilege(c.oid, 'SELECT,USAGE') AS readable, \
                CASE WHEN has_sequence_privilege(c.oid, 'SELECT,USAGE') \
                      AND NOT (s.seqmax = 9223372036854775807 AND s.seqincrement > 0 \
                               AND (da.atttypid IS NULL OR da.atttypid = 'int8'::regtype)) \
                     THEN pg_sequence_last_value(c.oid) END AS last_value, \
                dn.nspname::text AS owner_nspname, dc.relname::text AS owner_relname, da.attname::text AS owner_attname \
         FROM pg_sequence s \
         JOIN pg_class c ON c.oid = s.seqrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid \
                              AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0 \
         LEFT JOIN pg_class dc ON dc.oid = d.refobjid \
         LEFT JOIN pg_namespace dn ON dn.oid = dc.relnamespace \
         LEFT JOIN pg_attribute da ON da.attrelid = d.refobjid AND da.attnum = d.refobjsubid \
         WHERE {SCHEMA_FILTER} AND {NOT_EXTENSION} ORDER BY nspname, relname"
    );
    for row in tx.query(&sql, &[&schemas]).map_err(|e| query_err(&e))? {
        let name = QualName { schema: row.col("nspname")?, name: row.col("relname")? };
        let owner = match (row.col("owner_nspname")?, row.col("owner_relname")?, row.col("owner_attname")?) {
            (Some(s), Some(t), Some(col)) => Some((QualName { schema: s, name: t }, col)),
            _ => None,
        };
        schema.sequences.push(Sequence {
            origin: Origin::Catalog { object: object(&name) },
            name,
            ty: row.col("type_name")?,
            min_value: row.col("seqmin")?,
            max_value: row.col("seqmax")?,
            increment: row.col("seqincrement")?,
            readable: row.col("readable")?,
            last_value: row.col("last_value")?,
            owner,
        });
    }
    tx.commit().map_err(|e| query_err(&e))?;
    schema.live = Some(live);
    schema.seal();
    Ok(schema)
}
