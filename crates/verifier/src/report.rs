//! Reports for people: each finding with the instruction, its source line,
//! the abstract state that shows why, the kernel's own message and a hint.

use crate::diag::Severity;
use crate::{Program, Verdict};
use std::fmt::Write as _;

/// Where an instruction comes from in the source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceLine {
    /// `file:line:column`.
    pub location: String,
    /// The text of the line, when the file could be read.
    pub text: Option<String>,
}

/// The function of `program` holding absolute slot `slot`.
fn function_of<'p>(program: &'p Program, slot: usize) -> Option<&'p crate::Function> {
    let rel = slot.checked_sub(program.base)?;
    program
        .functions
        .iter()
        .find(|f| f.start <= rel && rel < f.end)
}

/// The report of one verdict. `lines` maps an absolute slot to its source
/// line (from debug info), when known.
pub fn format_verdict(
    v: &Verdict,
    program: &Program,
    section: &str,
    lines: &dyn Fn(usize) -> Option<SourceLine>,
) -> String {
    let mut out = String::new();
    let errors = v.diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = v.diagnostics.len() - errors;
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    let _ = write!(
        out,
        "program `{}` (section {section}, type {}, {} instructions): ",
        v.name,
        v.prog_type.name(),
        v.insns
    );
    if errors == 0 {
        let _ = write!(out, "the kernel would accept it");
    } else {
        let _ = write!(
            out,
            "the kernel would REFUSE it ({})",
            plural(errors, "error")
        );
    }
    if warnings > 0 {
        let _ = write!(out, ", {}", plural(warnings, "warning"));
    }
    let _ = writeln!(
        out,
        " [{} of {} memory accesses in bounds on every path; verified in {:.2} ms]",
        v.in_bounds,
        v.accesses,
        v.time.as_secs_f64() * 1e3
    );
    for d in &v.diagnostics {
        let what = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let _ = writeln!(out, "{what}: {} [{}]", d.message, d.rule.name());
        let func = function_of(program, d.slot)
            .map(|f| format!(" in `{}`", f.name))
            .unwrap_or_default();
        let src = lines(d.slot);
        match &src {
            Some(s) => {
                let _ = writeln!(out, "  --> {} (instruction {}{func})", s.location, d.slot);
            }
            None => {
                let _ = writeln!(out, "  --> instruction {}{func}", d.slot);
            }
        }
        if let Some(SourceLine {
            text: Some(t),
            location,
        }) = &src
        {
            let line = location.split(':').nth(1).unwrap_or("");
            let _ = writeln!(out, "  {line:>5} | {}", t.trim_end());
        }
        if let Some(rel) = d.slot.checked_sub(program.base) {
            if let Some((text, _)) = bpf_vm::disasm::disasm_insn(program.code, rel) {
                let _ = writeln!(out, "        | {text}");
            }
        }
        for s in &d.state {
            let _ = writeln!(out, "  state: {s}");
        }
        if let Some(k) = &d.kernel {
            let _ = writeln!(out, "  kernel: {k}");
        }
        if let Some(h) = &d.hint {
            let _ = writeln!(out, "  hint: {h}");
        }
    }
    out
}
