//! Meta commands about what surrounds the C code: the engine that runs it
//! (`%engine`) and the kernel world of kernel-style inputs (`%maps`,
//! `%map`, `%run-prog`, `%verify`).

use super::{error, out};
use crate::engine::{ProgInput, Repl};
use crate::printed::Printed;

/// `%engine [interp|jit|auto]`: show or change the engine of later runs.
pub fn engine(repl: &mut Repl, args: &[&str]) -> Printed {
    let mut note = String::new();
    match args {
        [] => {}
        [name] => match name.parse::<bpf_jit::EngineKind>() {
            Ok(kind) => {
                if let Some(n) = repl.set_engine(kind) {
                    note = format!("note: {n}\n");
                }
            }
            Err(e) => return error(format!("%engine: {e}")),
        },
        _ => return error("usage: %engine [interp|jit|auto]".to_string()),
    }
    let what = match repl.engine_name() {
        "interp" => "the interpreter",
        "jit" => "the JIT (native code from Cranelift)",
        "auto" => "auto (interpret first, compile hot functions with the JIT)",
        other => other,
    };
    let mut p = out(format!("engine: {what}\n"));
    p.stderr = note;
    p
}

/// `%memcheck`: whether memcheck is on; it is fixed at start-up (the
/// shadow must cover memory from the first allocation).
pub fn memcheck(repl: &Repl, args: &[&str]) -> Printed {
    let state = if repl.memcheck() { "on" } else { "off" };
    match args {
        [] => out(format!(
            "memcheck: {state} (heap and global accesses {}checked)\n",
            if repl.memcheck() { "" } else { "not " }
        )),
        _ => error(format!(
            "%memcheck: memcheck is {state} and can only be set at start-up \
             (bpf-repl --memcheck on|off)"
        )),
    }
}

/// `%maps`: the kernel world's maps.
pub fn maps(repl: &Repl, args: &[&str]) -> Printed {
    if !args.is_empty() {
        return error("%maps takes no arguments (%map NAME dumps one)".to_string());
    }
    let list = repl.list_maps();
    out(if list.is_empty() {
        "no maps yet (define one with SEC(\".maps\") and <bpf/bpf_helpers.h>)\n".to_string()
    } else {
        list
    })
}

/// `%map NAME`: one map's contents.
pub fn map(repl: &Repl, args: &[&str]) -> Printed {
    let [name] = args else {
        return error("usage: %map NAME (%maps lists them)".to_string());
    };
    match repl.dump_map(name) {
        Ok(text) => out(text),
        Err(e) => error(format!("%map: {e}")),
    }
}

const RUN_USAGE: &str = "usage: %run-prog NAME --packet HEX | --pcap FILE | --ctx HEX";

/// `%run-prog NAME --packet HEX | --pcap FILE | --ctx HEX`. Hex may be
/// split by spaces (`--packet 45 00 00 1c`).
pub fn run_prog(repl: &mut Repl, text: &str, rest: &str) -> Printed {
    let input = match parse_run(rest) {
        Ok(i) => i,
        Err(e) => return error(format!("%run-prog: {e}")),
    };
    let (name, input) = input;
    match repl.run_program(&name, &input, text) {
        Ok(run) => Printed {
            stdout: run.report,
            failed: run.error.is_some(),
            stderr: run
                .error
                .map(|e| format!("error: {e}\n"))
                .unwrap_or_default(),
        },
        Err(e) => error(format!("%run-prog: {e}")),
    }
}

fn parse_run(rest: &str) -> Result<(String, ProgInput), String> {
    let mut words = rest.split_whitespace();
    let name = match words.next() {
        Some(n) if !n.starts_with("--") => n.to_string(),
        _ => return Err(RUN_USAGE.to_string()),
    };
    let flag = words.next().ok_or(RUN_USAGE)?;
    let value: Vec<&str> = words.collect();
    if value.is_empty() {
        return Err(format!("{flag} needs a value; {RUN_USAGE}"));
    }
    if let Some(extra) = value.iter().find(|w| w.starts_with("--")) {
        return Err(format!(
            "one input at a time: `{extra}` after {flag}; {RUN_USAGE}"
        ));
    }
    let input = match flag {
        "--packet" => ProgInput::Packet(bpf_linker::parse_hex(&value.join(""))?),
        "--ctx" => ProgInput::Context(bpf_linker::parse_hex(&value.join(""))?),
        "--pcap" => ProgInput::Pcap(value.join(" ").into()),
        other => return Err(format!("unknown option `{other}`; {RUN_USAGE}")),
    };
    Ok((name, input))
}

const VERIFY_USAGE: &str = "usage: %verify NAME [--type SECTION] [--unprivileged]";

/// `%verify NAME [--type SECTION] [--unprivileged]`: would the Linux
/// verifier load program NAME? The report names the instruction and
/// source line of a refusal.
pub fn verify(repl: &Repl, args: &[&str]) -> Printed {
    let mut name = None;
    let mut section = None;
    let mut unprivileged = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match *a {
            "--unprivileged" => unprivileged = true,
            "--type" => match it.next() {
                Some(s) => section = Some(*s),
                None => {
                    return error(format!(
                        "%verify: --type needs a section name; {VERIFY_USAGE}"
                    ))
                }
            },
            flag if flag.starts_with("--") => {
                return error(format!("%verify: unknown option `{flag}`; {VERIFY_USAGE}"))
            }
            n if name.is_none() => name = Some(n),
            _ => return error(VERIFY_USAGE.to_string()),
        }
    }
    let Some(name) = name else {
        return error(VERIFY_USAGE.to_string());
    };
    match repl.verify_program(name, section, unprivileged) {
        Ok((true, text)) => out(format!("{}\n", text.trim_end())),
        Ok((false, text)) => Printed {
            stdout: String::new(),
            stderr: format!("{}\n", text.trim_end()),
            failed: true,
        },
        Err(e) => error(format!("%verify: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_prog_arguments() {
        let (n, i) = parse_run("f --packet 45 00 0a").unwrap();
        assert_eq!(n, "f");
        assert_eq!(i, ProgInput::Packet(vec![0x45, 0, 0x0a]));
        assert_eq!(
            parse_run("f --ctx 0x0102").unwrap().1,
            ProgInput::Context(vec![1, 2])
        );
        assert!(parse_run("f --packet")
            .unwrap_err()
            .contains("needs a value"));
        assert!(parse_run("f --packet 00 --pcap x")
            .unwrap_err()
            .contains("one input at a time"));
        assert!(parse_run("--packet 00").unwrap_err().starts_with("usage"));
        assert!(parse_run("f --packet zz")
            .unwrap_err()
            .contains("hex digit"));
    }
}
