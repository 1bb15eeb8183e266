//! Indexes (not the indexes of partitions that belong to a partitioned index), with their size
//! and scans; an index's size is added to its table's.
//!
//! A key is a column, or an expression; a column with a collation other than its own is an
//! expression too (`code COLLATE "C"` does not serve lookups by the column's collation). Column
//! keys are named from the columns the tables step read; only expression keys are printed by the
//! server.

use std::collections::HashMap;

use super::{Col, DbError, Oids, Reader, SCHEMA_FILTER, object};
use crate::parse::ir::{IndexKey, quote_ident};
use crate::schema::{Index, IndexStats, Origin, QualName, Schema};

pub(super) fn load(reader: &mut Reader, schema: &mut Schema, oids: &Oids) -> Result<(), DbError> {
    let exprs = expression_keys(reader)?;
    let collations = collation_names(reader)?;
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
    for row in reader.rows(&sql)? {
        let Some((table_oid, tname, t)) = oids.table(&mut schema.tables, &row)? else { continue };
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
                let column = oids.column(table_oid, *num);
                let name = column.map(|a| a.name.clone()).unwrap_or_default();
                let own = column.map_or(0, |a| a.collation);
                match index_collations.get(k).copied().filter(|c| *c != 0 && *c != own) {
                    Some(c) => IndexKey::Expr(format!(
                        "{} COLLATE {}",
                        quote_ident(&name),
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
        if let Some(s) = &mut t.stats {
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
    Ok(())
}

/// The expression keys of every index, as the server prints them, by index oid and key
/// position (from 0).
fn expression_keys(reader: &mut Reader) -> Result<HashMap<(u32, usize), String>, DbError> {
    let sql = format!(
        "SELECT i.indexrelid, k.ord::int AS ord, pg_get_indexdef(i.indexrelid, k.ord::int, true) AS expr \
         FROM pg_index i \
         JOIN pg_class c ON c.oid = i.indrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY k(num, ord) \
         WHERE k.num = 0 AND c.relkind IN ('r', 'p') AND {SCHEMA_FILTER}"
    );
    let mut exprs = HashMap::new();
    for row in reader.rows(&sql)? {
        let ord = usize::try_from(row.col::<i32>("ord")?).unwrap_or(1);
        exprs.insert((row.col("indexrelid")?, ord.saturating_sub(1)), row.col("expr")?);
    }
    Ok(exprs)
}

/// Every collation's name, quoted as SQL needs it, by oid.
fn collation_names(reader: &mut Reader) -> Result<HashMap<u32, String>, DbError> {
    let mut collations = HashMap::new();
    for row in reader.rows_unfiltered("SELECT oid, quote_ident(collname) AS collname FROM pg_collation")? {
        collations.insert(row.col("oid")?, row.col("collname")?);
    }
    Ok(collations)
}
