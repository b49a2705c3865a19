//! Finding a usable clang: `$BPF_REPL_CLANG`, else the newest `clang-N`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The oldest clang whose BPF backend has `-mcpu=v4`.
pub const MIN_CLANG: u32 = 18;
/// The newest clang-N looked for on PATH.
const MAX_CLANG: u32 = 40;

/// What to tell a user who has no usable clang.
pub const INSTALL_HINT: &str =
    "install it with `apt-get update && apt-get install -y clang-19 llvm-19` \
     (or set BPF_REPL_CLANG to a clang >= 18)";

/// Why no compiler could be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClangError {
    NotFound,
    TooOld { path: PathBuf, version: u32 },
    Unusable { path: PathBuf, reason: String },
}

impl fmt::Display for ClangError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClangError::NotFound => write!(f, "clang-19 not found: {INSTALL_HINT}"),
            ClangError::TooOld { path, version } => write!(
                f,
                "{} is clang {version}, but BPF ISA v4 needs clang {MIN_CLANG} or newer: {INSTALL_HINT}",
                path.display()
            ),
            ClangError::Unusable { path, reason } => {
                write!(f, "cannot run {}: {reason}: {INSTALL_HINT}", path.display())
            }
        }
    }
}

impl std::error::Error for ClangError {}

/// Finds clang: `$BPF_REPL_CLANG` if set, else the newest `clang-N`
/// (N >= 18) on PATH, else a plain `clang` that is new enough.
pub fn find_clang() -> Result<PathBuf, ClangError> {
    if let Some(path) = std::env::var_os("BPF_REPL_CLANG").filter(|p| !p.is_empty()) {
        let path = which::which(&path).map_err(|e| ClangError::Unusable {
            path: PathBuf::from(&path),
            reason: format!("BPF_REPL_CLANG: {e}"),
        })?;
        return Ok(path);
    }
    for n in (MIN_CLANG..=MAX_CLANG).rev() {
        if let Ok(path) = which::which(format!("clang-{n}")) {
            return Ok(path);
        }
    }
    let path = which::which("clang").map_err(|_| ClangError::NotFound)?;
    let version = clang_version(&path)?;
    if version < MIN_CLANG {
        return Err(ClangError::TooOld { path, version });
    }
    Ok(path)
}

/// The major version `clang --version` reports.
pub fn clang_version(path: &Path) -> Result<u32, ClangError> {
    let out = Command::new(path)
        .arg("--version")
        .output()
        .map_err(|e| ClangError::Unusable {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.split("version ")
        .nth(1)
        .and_then(|v| v.split('.').next())
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| ClangError::Unusable {
            path: path.to_path_buf(),
            reason: "cannot read its version".to_string(),
        })
}
