//! dbwarden: a PostgreSQL migration linter and query-plan auditor.

pub mod cli;
pub mod config;
pub mod db;
pub mod diagnostic;
pub mod parse;
pub mod render;
pub mod rules;
pub mod schema;
pub mod source;
