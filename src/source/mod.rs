//! Loading migration files in migration order.

mod line_index;
mod order;

pub use line_index::{LineIndex, floor_char_boundary};
pub use order::natural_cmp;

use std::path::{Path, PathBuf};

/// One migration file (or standard input), as text.
#[derive(Debug)]
pub struct SourceFile {
    /// The path as given or found; `-` for standard input.
    pub path: String,
    pub text: String,
    pub index: LineIndex,
}

impl SourceFile {
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> Self {
        let mut text: String = text.into();
        if text.starts_with('\u{feff}') {
            text.drain(..3);
        }
        let index = LineIndex::new(&text);
        Self { path: path.into(), text, index }
    }

    pub fn from_bytes(path: impl Into<String>, bytes: Vec<u8>) -> Self {
        let text = match String::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        };
        Self::new(path, text)
    }

    pub fn position(&self, offset: usize) -> (usize, usize) {
        self.index.position(&self.text, offset)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}: no such file or directory")]
    NotFound(String),
}

/// Whether a file name is a down (rollback) migration, which is not replayed.
pub fn is_down_migration(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower == "down.sql" || lower.ends_with(".down.sql") || lower.contains(".down.")
}

fn is_migration_file(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".sql") && !is_down_migration(&lower)
}

/// Expands the given paths into migration files, each folder's files in natural version order.
/// Explicitly named files are kept even when they look like down migrations.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, SourceError> {
    let mut out = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            out.push(path.clone());
            continue;
        }
        let meta = std::fs::metadata(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                SourceError::NotFound(path.display().to_string())
            } else {
                SourceError::Io { path: path.display().to_string(), source: e }
            }
        })?;
        if meta.is_dir() {
            let mut found = Vec::new();
            walk(path, &mut found)?;
            let mut keyed: Vec<(String, PathBuf)> =
                found.into_iter().map(|p| (p.to_string_lossy().into_owned(), p)).collect();
            keyed.sort_by(|a, b| natural_cmp(&a.0, &b.0));
            out.extend(keyed.into_iter().map(|(_, p)| p));
        } else {
            out.push(path.clone());
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), SourceError> {
    let entries = std::fs::read_dir(dir).map_err(|e| SourceError::Io { path: dir.display().to_string(), source: e })?;
    for entry in entries {
        let entry = entry.map_err(|e| SourceError::Io { path: dir.display().to_string(), source: e })?;
        let path = entry.path();
        let Ok(ft) = entry.file_type() else { continue };
        if ft.is_dir() {
            let hidden = path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.'));
            if !hidden {
                walk(&path, out)?;
            }
        } else if (ft.is_file() || ft.is_symlink()) && is_migration_file(&path) {
            out.push(path);
        }
    }
    Ok(())
}

/// Reads one file (or standard input for `-`).
pub fn load(path: &Path) -> Result<SourceFile, SourceError> {
    if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)
            .map_err(|e| SourceError::Io { path: "-".into(), source: e })?;
        return Ok(SourceFile::from_bytes("-", buf));
    }
    let bytes = std::fs::read(path).map_err(|e| SourceError::Io { path: path.display().to_string(), source: e })?;
    Ok(SourceFile::from_bytes(path.display().to_string(), bytes))
}

/// The repository root: the nearest folder upwards from the current directory that holds `.git`.
pub fn repo_root() -> Option<PathBuf> {
    static ROOT: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    ROOT.get_or_init(|| {
        let cwd = std::env::current_dir().ok()?;
        cwd.ancestors().find(|d| d.join(".git").exists()).map(Path::to_path_buf)
    })
    .clone()
}

fn normalise_path(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// A file's path relative to the repository root (else as given, without `./`), with `/`
/// separators: the same file gets the same name whatever the current directory.
pub fn repo_relative(path: &str) -> String {
    let given = || path.trim_start_matches("./").replace('\\', "/");
    if path == "-" {
        return path.to_owned();
    }
    let (Some(root), Ok(cwd)) = (repo_root(), std::env::current_dir()) else { return given() };
    let p = Path::new(path);
    let abs = normalise_path(&if p.is_absolute() { p.to_path_buf() } else { cwd.join(p) });
    match abs.strip_prefix(normalise_path(&root)) {
        Ok(rel) => rel.to_string_lossy().replace('\\', "/"),
        Err(_) => given(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn down_migrations_are_recognised() {
        assert!(is_down_migration("down.sql"));
        assert!(is_down_migration("0001_x.down.sql"));
        assert!(is_down_migration("20200101_x.down.postgres.sql"));
        assert!(!is_down_migration("0001_x.up.sql"));
        assert!(!is_down_migration("0001_download.sql"));
    }

    #[test]
    fn bom_is_stripped() {
        let f = SourceFile::new("a.sql", "\u{feff}SELECT 1;");
        assert_eq!(f.text, "SELECT 1;");
    }
}
