//! Schema rules: judge the model after the last migration, reported at the defining statement.

pub mod cascade_on_phi;
pub mod duplicate_index;
pub mod invalid_index;
pub mod missing_primary_key;
pub mod missing_soft_delete;
pub mod mutable_audit_log;
pub mod not_valid_constraint;
pub mod phi_without_audit_trigger;
pub mod rls_without_policy;
pub mod schema_drift;
pub mod sequence_near_overflow;
pub mod stale_statistics;
pub mod tenant_table_without_rls;
pub mod unindexed_foreign_key;
pub mod unique_ignores_soft_delete;
pub mod unused_index;
