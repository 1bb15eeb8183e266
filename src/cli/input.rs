//! What the subcommands read alike: the configuration file, and the notes on stderr about
//! inputs that were skipped or read only in part.

use std::path::{Path, PathBuf};

use super::CliError;
use crate::config::Config;
use crate::render;
use crate::source;

/// The configuration: the file given, else `dbwarden.toml` looked up from the current folder
/// upwards, else the defaults.
pub(super) fn load_config(path: Option<&PathBuf>) -> Result<Config, CliError> {
    let found = match path {
        Some(p) => Some(p.clone()),
        // Found in the current folder: keep it relative, so that its `[lint] paths` and so every
        // file name in the output are relative too (`db/1.sql`, not `/home/ci/repo/db/1.sql`),
        // as GitLab Code Quality reports and readers expect.
        None => std::env::current_dir()
            .ok()
            .and_then(|d| Config::find(&d).map(|p| p.strip_prefix(&d).map(Path::to_path_buf).unwrap_or(p))),
    };
    let Some(path) = found else { return Ok(Config::default()) };
    let config = Config::load(&path)?;
    crate::rules::check_names(&config, &path.display().to_string())?;
    Ok(config)
}

/// Says on stderr which files found in folders were not read, and why.
pub(super) fn warn_skipped(skipped: &[source::Skipped]) {
    for s in skipped {
        eprintln!("dbwarden: {}", render::visible(&s.to_string()));
    }
}

/// Says on stderr what of the captured queries' inputs was skipped or read only in part.
pub(super) fn warn_inputs(set: &crate::queries::QuerySet) {
    warn_skipped(&set.skipped);
    for w in &set.warnings {
        eprintln!("dbwarden: warning: {}", render::visible(w));
    }
}
