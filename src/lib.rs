//! dbwarden: a PostgreSQL migration linter and query-plan auditor.

pub mod audit;
pub mod cli;
pub mod config;
pub mod db;
pub mod diagnostic;
pub mod explain;
pub mod parse;
pub mod pipeline;
pub mod queries;
pub mod render;
pub mod rules;
pub mod schema;
pub mod source;
