//! Schema rules: judge the model after the last migration, reported at the defining statement.

pub mod cascade_on_phi;
pub mod missing_primary_key;
pub mod missing_soft_delete;
pub mod unindexed_foreign_key;
pub mod unique_ignores_soft_delete;
