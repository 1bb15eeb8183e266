//! The database itself (name, server version, size, statistics reset) and its schemas.

use super::{Col, DbError, Reader, SCHEMA_FILTER, query_err};
use crate::schema::LiveInfo;

/// Reads the facts about the database and the schemas to load; a schema asked for (`wanted`)
/// and not found is an error, as it would make a clean audit of nothing.
pub(super) fn load(reader: &mut Reader, wanted: &[String]) -> Result<LiveInfo, DbError> {
    let info = reader
        .tx
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
    let sql = format!("SELECT n.nspname::text AS nspname FROM pg_namespace n WHERE {SCHEMA_FILTER} ORDER BY nspname");
    for row in reader.rows(&sql)? {
        live.schemas.push(row.col("nspname")?);
    }
    if let Some(missing) = wanted.iter().find(|s| !live.schemas.contains(s)) {
        let why = if missing == "information_schema" || missing.starts_with("pg_") {
            "is a system schema, which audit does not read"
        } else {
            "does not exist"
        };
        return Err(DbError::Query {
            message: format!("schema `{missing}` {why} in database `{}` (--schema)", live.database),
        });
    }
    Ok(live)
}
