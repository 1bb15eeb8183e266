//! Loads a live database's catalog into the same [`Schema`] model the migration replay builds,
//! so the same schema rules judge both.
//!
//! One set-based query per kind of object (tables, columns, constraints, indexes, policies,
//! grants, rewrite rules, triggers, sequences), never one per table, all in one `READ ONLY`
//! transaction with a statement timeout; one file per kind, each a step of [`load`]. Every
//! query reads catalogs and statistics views only, so a role with `CONNECT` and
//! `pg_read_all_stats` suffices (a sequence's last value also needs `SELECT` or `USAGE` on it;
//! without, the sequence is loaded as unreadable). System schemas (`pg_catalog`,
//! `information_schema`, `pg_toast*`, temporary schemas) and objects owned by extensions are
//! left out. Every query names its result columns, and rows are read by those names.

mod constraints;
mod database;
mod grants;
mod indexes;
mod policies;
mod rewrite_rules;
mod sequences;
mod tables;
mod triggers;

use std::collections::{BTreeMap, HashMap};

use postgres::types::FromSql;
use postgres::{Client, Row, Transaction};

use super::{QualName, Schema, Table};
use crate::db::{DbError, error_text};
use crate::parse::ir::ObjName;

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

/// Loads the catalog in one read-only transaction.
pub fn load(client: &mut Client, opts: &LoadOptions) -> Result<Schema, DbError> {
    let mut tx = client.build_transaction().read_only(true).start().map_err(|e| query_err(&e))?;
    tx.query("SELECT set_config('statement_timeout', $1, true)", &[&opts.statement_timeout])
        .map_err(|e| query_err(&e))?;
    let mut reader = Reader { tx, schemas: (!opts.schemas.is_empty()).then(|| opts.schemas.clone()) };
    let live = database::load(&mut reader, &opts.schemas)?;
    let mut schema = Schema::default();
    schema.schemas.clone_from(&live.schemas);
    let oids = tables::load(&mut reader, &mut schema)?;
    constraints::load(&mut reader, &mut schema, &oids, live.server_version_num)?;
    indexes::load(&mut reader, &mut schema, &oids)?;
    policies::load(&mut reader, &mut schema, &oids)?;
    grants::load(&mut reader, &mut schema, &oids)?;
    rewrite_rules::load(&mut reader, &mut schema, &oids)?;
    triggers::load(&mut reader, &mut schema, &oids, live.server_version_num)?;
    sequences::load(&mut reader, &mut schema)?;
    reader.tx.commit().map_err(|e| query_err(&e))?;
    schema.live = Some(live);
    schema.seal();
    Ok(schema)
}

/// The schemas an audit reads: not the system ones, optionally only those asked for. Expects
/// `n` (pg_namespace) in scope; `$1` is the list of schemas or NULL.
const SCHEMA_FILTER: &str =
    "n.nspname <> 'information_schema' AND n.nspname !~ '^pg_' AND ($1::text[] IS NULL OR n.nspname = ANY($1))";

/// Not owned by an extension. Expects `c` (pg_class) in scope.
const NOT_EXTENSION: &str = "NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_class'::regclass \
     AND e.objid = c.oid AND e.deptype = 'e')";

/// The load's read-only transaction, with the schemas asked for (`None`: every one).
struct Reader<'c> {
    tx: Transaction<'c>,
    schemas: Option<Vec<String>>,
}

impl Reader<'_> {
    /// Runs a query that takes the schemas asked for as `$1` (see [`SCHEMA_FILTER`]).
    fn rows(&mut self, sql: &str) -> Result<Vec<Row>, DbError> {
        self.tx.query(sql, &[&self.schemas]).map_err(|e| query_err(&e))
    }

    /// Runs a query that takes no parameters.
    fn rows_unfiltered(&mut self, sql: &str) -> Result<Vec<Row>, DbError> {
        self.tx.query(sql, &[]).map_err(|e| query_err(&e))
    }
}

/// What the later steps look up by number: the tables loaded, by oid, and their columns, by
/// table oid and attribute number (as constraints and indexes name them).
#[derive(Default)]
struct Oids {
    tables: HashMap<u32, QualName>,
    columns: HashMap<(u32, i16), Attribute>,
}

/// A column as constraints and index keys refer to it.
struct Attribute {
    name: String,
    /// `attcollation` (0: not collatable).
    collation: u32,
}

impl Oids {
    /// The loaded table a row belongs to (its oid in the row's `relid` column, as every query
    /// about a table's parts names it): the oid, the name and the table in the model; `None`
    /// for a relation that was not loaded (another kind of relation, a system schema, an
    /// extension's table).
    fn table<'t>(
        &self,
        tables: &'t mut BTreeMap<QualName, Table>,
        row: &Row,
    ) -> Result<Option<(u32, &QualName, &'t mut Table)>, DbError> {
        let oid: u32 = row.col("relid")?;
        let Some(name) = self.tables.get(&oid) else { return Ok(None) };
        Ok(tables.get_mut(name).map(|t| (oid, name, t)))
    }

    /// The column of table `oid` with attribute number `num`.
    fn column(&self, oid: u32, num: i16) -> Option<&Attribute> {
        self.columns.get(&(oid, num))
    }
}

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
