//! The `.bpf_repl.abi` marker (docs/abi.md, "Modes"): objects built by
//! bpf-cc in full mode pass variadic arguments in a va block, plain-BPF
//! objects in registers. A variadic function must be defined and called
//! under one of them, so a link that mixes them for one name is refused,
//! naming both objects.

use crate::error::LinkError;
use crate::graph::LinkGraph;
use crate::session::Session;

/// The section name.
pub const ABI_SECTION: &str = ".bpf_repl.abi";

/// What a full-mode object's marker says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AbiMarker {
    /// The ABI version (1).
    pub version: u32,
    /// Variadic functions the object defines or calls.
    pub variadic: Vec<String>,
}

impl AbiMarker {
    /// Reads the section: a little-endian `u32` version, then NUL-terminated names.
    pub fn parse(bytes: &[u8]) -> Result<AbiMarker, String> {
        let (version, rest) = bytes
            .split_first_chunk::<4>()
            .ok_or("section .bpf_repl.abi is shorter than its 4-byte version")?;
        let version = u32::from_le_bytes(*version);
        if version != 1 {
            return Err(format!(
                "section .bpf_repl.abi has ABI version {version}; this linker knows version 1"
            ));
        }
        let mut variadic = Vec::new();
        for name in rest.split(|b| *b == 0) {
            if !name.is_empty() {
                variadic.push(String::from_utf8_lossy(name).into_owned());
            }
        }
        Ok(AbiMarker { version, variadic })
    }
}

/// True if `g` defines or references the global `name`.
fn mentions(g: &LinkGraph, name: &str) -> bool {
    g.symbols
        .iter()
        .any(|s| s.name == name && s.scope != crate::graph::Scope::Local)
}

/// Refuses a unit whose objects, together with the session's, use one
/// variadic function under both calling conventions; and a plain object
/// that calls a variadic runtime function that has a register-ABI variant
/// `__bpf_strict_NAME` (it was built without the runtime's strict headers).
pub(crate) fn check(session: &Session, graphs: &[LinkGraph]) -> Result<(), LinkError> {
    let earlier = session.objects.iter().map(|o| &o.graph);
    let all: Vec<&LinkGraph> = earlier.chain(graphs.iter()).collect();
    let first_new = all.len() - graphs.len();
    for (i, full) in all.iter().enumerate() {
        let Some(marker) = &full.abi else { continue };
        for (j, plain) in all.iter().enumerate() {
            if plain.abi.is_some() || (i < first_new && j < first_new) {
                continue;
            }
            if let Some(name) = marker.variadic.iter().find(|n| mentions(plain, n)) {
                return Err(LinkError::AbiMismatch {
                    name: name.clone(),
                    full: full.name.clone(),
                    plain: plain.name.clone(),
                });
            }
        }
    }
    for plain in graphs.iter().filter(|g| g.abi.is_none()) {
        for (_, sym) in plain.externals() {
            let strict = format!("__bpf_strict_{}", sym.name);
            if session.helpers.contains_key(&sym.name) && session.helpers.contains_key(&strict) {
                return Err(LinkError::AbiMismatch {
                    name: sym.name.clone(),
                    full: "the C runtime".to_string(),
                    plain: plain.name.clone(),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::AbiMarker;

    #[test]
    fn marker_lists_variadic_names() {
        let m = AbiMarker::parse(b"\x01\0\0\0printf\0sum\0").unwrap();
        assert_eq!(m.variadic, vec!["printf", "sum"]);
        assert!(AbiMarker::parse(b"\x01\0\0\0").unwrap().variadic.is_empty());
        assert!(AbiMarker::parse(b"\x02\0\0\0")
            .unwrap_err()
            .contains("version 2"));
        assert!(AbiMarker::parse(b"\x01\0").is_err());
    }
}
