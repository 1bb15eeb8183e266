//! Statement rules: judge one statement with the schema as it was before it.

pub mod add_column_rewrite;
pub mod add_column_volatile_default;
pub mod add_required_column;
pub mod alter_column_type;
pub mod blocking_maintenance;
pub mod check_without_not_valid;
pub mod concurrent_in_transaction;
pub mod drop_column;
pub mod drop_index_not_concurrent;
pub mod drop_table;
pub mod foreign_key_without_not_valid;
pub mod index_not_concurrent;
pub mod missing_lock_timeout;
pub mod reindex_not_concurrent;
pub mod rename_column;
pub mod rename_table;
pub mod set_not_null;
pub mod unique_constraint_without_index;
