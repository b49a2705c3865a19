//! What the REPL prints for an input: program output and the value on
//! stdout, warnings and errors on stderr.

use crate::engine::{EvalError, Evaluation};

/// What replaying one input printed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Printed {
    pub stdout: String,
    pub stderr: String,
    pub failed: bool,
}

/// What the REPL prints for an input's result (with `%time on`, its times too).
pub fn printed(result: Result<Evaluation, EvalError>, show_times: bool) -> Printed {
    let mut p = Printed::default();
    match result {
        Ok(ev) => {
            p.stderr.push_str(&ev.warnings);
            if show_times {
                p.stderr.push_str(&crate::meta::format_times(&ev.times));
            }
            p.stdout.push_str(&String::from_utf8_lossy(&ev.output));
            if let Some(v) = ev.value {
                if !p.stdout.is_empty() && !p.stdout.ends_with('\n') {
                    p.stdout.push('\n');
                }
                p.stdout.push_str(&v);
                p.stdout.push('\n');
            }
        }
        Err(e) => {
            p.failed = true;
            if let EvalError::Run {
                output, warnings, ..
            } = &e
            {
                p.stdout.push_str(&String::from_utf8_lossy(output));
                p.stderr.push_str(warnings);
            }
            p.stderr.push_str(&e.to_string());
            p.stderr.push('\n');
        }
    }
    p
}
