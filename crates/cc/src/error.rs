//! What can go wrong when compiling, said at the user's place in the C source.

use crate::ir::SourceLoc;
use std::fmt;

/// One problem in the program, at the place in the C source it comes from
/// (when the code has debug locations) or in the function it is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// `file:line:column` of the construct, when known.
    pub loc: Option<SourceLoc>,
    /// The C function it is in, when known.
    pub function: Option<String>,
    /// What is wrong, in C terms.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.loc, &self.function) {
            (Some(l), Some(func)) => write!(
                f,
                "{}:{}:{}: error: {} (in function {func})",
                l.file, l.line, l.column, self.message
            ),
            (Some(l), None) => write!(
                f,
                "{}:{}:{}: error: {}",
                l.file, l.line, l.column, self.message
            ),
            (None, Some(func)) => write!(f, "error: in function {func}: {}", self.message),
            (None, None) => write!(f, "error: {}", self.message),
        }
    }
}

/// Why [`crate::lower`] produced no object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LowerError {
    /// The input is not LLVM bitcode for the BPF target.
    BadInput(String),
    /// The program uses constructs that cannot be compiled (in this mode),
    /// each reported at its place.
    Unsupported(Vec<Diagnostic>),
    /// The BPF backend refused the lowered program.
    Backend(Vec<Diagnostic>),
    /// The IR stage produced invalid IR: a bug in bpf-cc, with LLVM's verifier report.
    Internal(String),
}

impl LowerError {
    /// The individual problems (for `BadInput`/`Internal`, one with no place).
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        match self {
            LowerError::Unsupported(d) | LowerError::Backend(d) => d.clone(),
            LowerError::BadInput(m) | LowerError::Internal(m) => vec![Diagnostic {
                loc: None,
                function: None,
                message: m.clone(),
            }],
        }
    }
}

impl fmt::Display for LowerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LowerError::BadInput(m) => write!(f, "error: {m}"),
            LowerError::Internal(m) => write!(
                f,
                "error: internal error in bpf-cc's IR stage (please report it): {m}"
            ),
            LowerError::Unsupported(d) | LowerError::Backend(d) => {
                for (k, diag) in d.iter().enumerate() {
                    if k > 0 {
                        writeln!(f)?;
                    }
                    write!(f, "{diag}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for LowerError {}
