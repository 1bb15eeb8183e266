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

/// `[lint] layout`, `baseline` and `forward`, checked and compiled.
pub(super) fn layout_options(config: &crate::config::Config) -> Result<crate::source::layout::LayoutOptions, String> {
    use crate::source::layout::{Glob, LayoutOptions, Tool};
    let forced = match &config.lint.layout {
        None => None,
        Some(name) => Some(Tool::from_name(name).ok_or_else(|| {
            let known: Vec<&str> = Tool::ALL.iter().map(|t| t.name()).collect();
            format!("[lint] layout `{name}` is not a known layout (one of: {})", known.join(", "))
        })?),
    };
    let globs = |list: &[String], key: &str| {
        list.iter().map(|g| Glob::new(g).map_err(|e| format!("[lint] {key}: {e}"))).collect::<Result<Vec<_>, _>>()
    };
    Ok(LayoutOptions {
        forced,
        baseline: globs(&config.lint.baseline, "baseline")?,
        forward: globs(&config.lint.forward, "forward")?,
    })
}
