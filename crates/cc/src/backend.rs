//! The BPF backend's error messages, said at the user's place in the C source.

use crate::error::Diagnostic;
use crate::ir::{Ir, SourceLoc};

/// An inline `asm` statement of the module: its template and place.
pub(crate) struct AsmSite {
    text: String,
    loc: Option<SourceLoc>,
    function: String,
}

/// Every inline `asm` statement, before code generation.
pub(crate) fn asm_sites(ir: &Ir) -> Vec<AsmSite> {
    let mut out = Vec::new();
    for f in crate::passes::definitions(ir) {
        for i in ir.all_insts(f) {
            if ir.is_call(i) && ir.is_inline_asm(ir.callee(i)) {
                out.push(AsmSite {
                    text: ir.inline_asm_text(ir.callee(i)),
                    loc: ir.loc(i),
                    function: ir.name(f),
                });
            }
        }
    }
    out
}

/// Explains the backend's errors: inline-assembly errors at the `asm`
/// statement they come from, the rest at the place the backend names, in
/// bpf-repl's terms (`frame_size`: the stack bytes per call).
pub(crate) fn diagnostics(
    errors: &[String],
    sites: &[AsmSite],
    frame_size: u64,
) -> Vec<Diagnostic> {
    errors
        .iter()
        .map(|e| match e.strip_prefix("<inline asm>:") {
            Some(rest) => inline_asm(rest, sites),
            None => {
                let mut d = backend_diagnostic(e);
                if d.message.starts_with("Looks like the BPF stack limit is exceeded") {
                    d.message = format!(
                        "the function needs more than its {frame_size}-byte stack frame for the values it keeps (compile with a larger --stack-size and run bpf-jitlink with the same --stack-size)"
                    );
                }
                d
            }
        })
        .fold(Vec::new(), |mut all, d| {
            if !all.contains(&d) {
                all.push(d);
            }
            all
        })
}

/// `<inline asm>:1:2: invalid register/token name\n\tmovl $1, r0\n\t^`.
fn inline_asm(rest: &str, sites: &[AsmSite]) -> Diagnostic {
    let mut lines = rest.lines();
    let head = lines.next().unwrap_or("");
    let reason = head.splitn(3, ':').nth(2).unwrap_or(head).trim();
    let code = lines.next().unwrap_or("").trim();
    let mnemonic = code.split_whitespace().next().unwrap_or("");
    let site = sites
        .iter()
        .find(|s| !mnemonic.is_empty() && s.text.split_whitespace().next() == Some(mnemonic))
        .or(sites.first());
    Diagnostic {
        loc: site.and_then(|s| s.loc.clone()),
        function: site.map(|s| s.function.clone()),
        message: format!("inline assembly is not BPF assembly: {reason} in `{code}`"),
    }
}

/// Turns a backend message into a diagnostic. The BPF backend says
/// `file.c:3:5: in function f i32 (i32): message` (or `<unknown>:0:0` without
/// debug info).
pub(crate) fn backend_diagnostic(text: &str) -> Diagnostic {
    let parse = || -> Option<Diagnostic> {
        let (place, rest) = text.split_once(": in function ")?;
        let mut parts = place.rsplitn(3, ':');
        let column: u32 = parts.next()?.parse().ok()?;
        let line: u32 = parts.next()?.parse().ok()?;
        let file = parts.next()?.to_string();
        let (sig, message) = rest.split_once("): ").or_else(|| rest.split_once(": "))?;
        let function = sig.split_whitespace().next()?.to_string();
        let loc = (line > 0 && file != "<unknown>").then_some(SourceLoc { file, line, column });
        Some(Diagnostic {
            loc,
            function: Some(function),
            message: message.trim().to_string(),
        })
    };
    parse().unwrap_or_else(|| Diagnostic {
        loc: None,
        function: None,
        message: text.trim().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_messages_are_parsed_into_places() {
        let d = backend_diagnostic(
            "x.c:3:12: in function f i32 (i32): Looks like the BPF stack limit is exceeded.",
        );
        assert_eq!(d.loc.as_ref().map(|l| (l.line, l.column)), Some((3, 12)));
        assert_eq!(d.function.as_deref(), Some("f"));
        assert_eq!(d.message, "Looks like the BPF stack limit is exceeded.");
        let d = backend_diagnostic("<unknown>:0:0: in function g void (): too many arguments");
        assert_eq!(d.loc, None);
        assert_eq!(d.function.as_deref(), Some("g"));
        assert_eq!(d.message, "too many arguments");
        assert_eq!(backend_diagnostic("odd").message, "odd");
    }
}
