//! What the session knows about names, which decides `T * x;` (a declaration)
//! against `a * b;` (a multiplication).

use std::collections::HashMap;
use std::hash::BuildHasher;

/// What the session already knows about a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NameKind {
    /// A typedef name: `T x;` and `T * x;` declare `x`.
    Typedef,
    /// A variable (or enumerator): `v * x;` multiplies.
    Variable,
    /// A function: `f * x;` is an expression too.
    Function,
    /// Never declared as far as the session knows.
    Unknown,
}

/// The session's knowledge of names, supplied by the caller.
pub trait Names {
    /// What `name` is, or [`NameKind::Unknown`].
    fn kind(&self, name: &str) -> NameKind;
}

/// Knows no names (only the standard typedefs, which are always known).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoNames;

impl Names for NoNames {
    fn kind(&self, _name: &str) -> NameKind {
        NameKind::Unknown
    }
}

impl<S: BuildHasher> Names for HashMap<String, NameKind, S> {
    fn kind(&self, name: &str) -> NameKind {
        self.get(name).copied().unwrap_or(NameKind::Unknown)
    }
}

/// Typedefs of the C standard headers, known even when the session is not told.
#[rustfmt::skip]
pub const STANDARD_TYPEDEFS: &[&str] = &[
    "size_t", "ssize_t", "ptrdiff_t", "intptr_t", "uintptr_t", "intmax_t", "uintmax_t", "int8_t",
    "int16_t", "int32_t", "int64_t", "uint8_t", "uint16_t", "uint32_t", "uint64_t", "wchar_t",
    "bool", "FILE", "va_list",
];

/// The caller's names overlaid with the names declared by earlier items of the same input.
pub(crate) struct Scope<'n> {
    names: &'n dyn Names,
    local: HashMap<String, NameKind>,
}

impl<'n> Scope<'n> {
    pub(crate) fn new(names: &'n dyn Names) -> Self {
        Scope {
            names,
            local: HashMap::new(),
        }
    }

    /// What `name` is: declared earlier in this input, else known to the caller,
    /// else a standard typedef, else unknown.
    pub(crate) fn kind(&self, name: &str) -> NameKind {
        if let Some(&kind) = self.local.get(name) {
            return kind;
        }
        match self.names.kind(name) {
            NameKind::Unknown if STANDARD_TYPEDEFS.contains(&name) => NameKind::Typedef,
            kind => kind,
        }
    }

    /// Records that an item of this input declared `name` as `kind`.
    pub(crate) fn learn(&mut self, name: &str, kind: NameKind) {
        if kind != NameKind::Unknown {
            self.local.insert(name.to_string(), kind);
        }
    }
}
