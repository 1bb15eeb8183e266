//! Sequences, with the column that owns them (serial: 'a', identity: 'i').
//!
//! The last value of an ascending `bigint` sequence with the default maximum, feeding a `bigint`
//! column (or none), is not read: it cannot come near 2^63, and reading it opens the sequence.

use super::{Col, DbError, NOT_EXTENSION, Reader, SCHEMA_FILTER, object};
use crate::schema::{Origin, QualName, Schema, Sequence};

pub(super) fn load(reader: &mut Reader, schema: &mut Schema) -> Result<(), DbError> {
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
    for row in reader.rows(&sql)? {
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
    Ok(())
}
