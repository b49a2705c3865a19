//! `bpf-jitlink --prog`: kernel-style programs run on a packet, a capture
//! or context bytes, then the maps they left.

use super::KernelArgs;
use bpf_kernel::{Clock, ContextKind, Input, Kernel, KernelConfig};
use bpf_linker::{parse_hex, Session};
use std::fmt::Write as _;

/// The clang flags for kernel-style objects with the shipped headers.
pub fn cflags() -> String {
    format!(
        "-target bpf -O2 -g -nostdinc -isystem {}",
        bpf_kernel::include_dir().display()
    )
}

fn parse_u64(s: &str, what: &str) -> Result<u64, String> {
    let v = match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16),
        None => s.parse(),
    };
    v.map_err(|_| format!("{what}: `{s}` is not a number"))
}

/// Enables the kernel world in `session` with the command line's settings.
pub fn enable(session: &mut Session, args: &KernelArgs) -> Result<(), String> {
    let mut config = KernelConfig {
        seed: args.seed,
        ..KernelConfig::default()
    };
    if let Some(k) = &args.ktime {
        let (start, step) = k.split_once(':').unwrap_or((k, "1000"));
        config.clock = Clock::Fixed {
            start_ns: parse_u64(start, "--ktime")?,
            step_ns: parse_u64(step, "--ktime")?,
        };
    }
    let trace = bpf_runtime::OutputSink::writer(std::io::stdout());
    session.enable_kernel(Kernel::new(config, trace));
    if let Some(path) = &args.btf {
        let bytes = std::fs::read(path)
            .map_err(|e| format!("--btf: cannot read {}: {e}", path.display()))?;
        session
            .set_target_btf(&bytes)
            .map_err(|e| format!("--btf {}: {e}", path.display()))?;
    }
    Ok(())
}

/// One line per program: function, section, type.
pub fn list(session: &Session, out: &mut String) {
    for p in session.programs() {
        let _ = writeln!(out, "{}\t{}\t{}", p.name, p.section, p.ty.name());
    }
}

/// `MAP[INDEX]=PROGRAM`.
fn tail_call(session: &mut Session, spec: &str) -> Result<(), String> {
    let bad = || format!("--tail-call: `{spec}` is not MAP[INDEX]=PROGRAM");
    let (slot, prog) = spec.split_once('=').ok_or_else(bad)?;
    let (map, index) = slot
        .strip_suffix(']')
        .and_then(|s| s.split_once('['))
        .ok_or_else(bad)?;
    let index = parse_u64(index, "--tail-call")?;
    let index = u32::try_from(index).map_err(|_| bad())?;
    session
        .set_tail_call(map, index, prog)
        .map_err(|e| format!("--tail-call {spec}: {e}"))
}

/// Runs the program as the arguments say, printing the outcome to `out`.
pub fn run(
    session: &mut Session,
    name: &str,
    args: &KernelArgs,
    out: &mut String,
) -> Result<(), String> {
    for spec in &args.tail_calls {
        tail_call(session, spec)?;
    }
    let program = session.program(name)?;
    let kind = ContextKind::of(program.ty)?;
    let ty = program.ty.name();
    // Inputs are read and checked before anything runs or is printed.
    let packets = match &args.pcap {
        Some(path) if kind == ContextKind::Bytes => {
            return Err(format!(
                "{ty} programs run on context bytes (--ctx HEX), not on a capture ({})",
                path.display()
            ))
        }
        Some(path) => Some(bpf_kernel::read_pcap_file(path)?),
        None => None,
    };
    let bytes = match (&args.packet, &args.ctx, kind) {
        _ if packets.is_some() => Vec::new(),
        (Some(_), _, ContextKind::Bytes) => {
            return Err(format!(
                "{ty} programs run on context bytes (--ctx HEX), not on packets"
            ))
        }
        (_, Some(_), ContextKind::Xdp | ContextKind::Skb) => {
            return Err(format!(
                "{ty} programs run on packets (--packet HEX or --pcap FILE), not on context bytes"
            ))
        }
        (Some(hex), _, _) | (_, Some(hex), _) => parse_hex(hex)?,
        (None, None, ContextKind::Bytes) => {
            return Err(format!(
                "{ty} programs run on context bytes: give --ctx HEX"
            ))
        }
        (None, None, _) => {
            return Err(format!(
                "{ty} programs run on packets: give --packet HEX or --pcap FILE"
            ))
        }
    };
    let _ = writeln!(
        out,
        "program {} (section {}, {ty})",
        program.name, program.section
    );
    // The header first: trace output goes straight to stdout as it happens.
    let _ = std::io::Write::write_all(&mut std::io::stdout(), std::mem::take(out).as_bytes());
    let result = if let Some(packets) = packets {
        let report = session
            .run_program_pcap(&program, &packets)
            .map_err(|e| e.to_string())?;
        let _ = write!(out, "{report}");
        report
            .stopped
            .map(|(n, e)| format!("packet {n}: {}", describe(session, &e)))
    } else {
        let input = if args.ctx.is_some() {
            Input::Context(&bytes)
        } else {
            Input::Packet {
                data: &bytes,
                timestamp_ns: None,
            }
        };
        match session.run_program(&program, input) {
            Ok(o) => {
                let _ = writeln!(
                    out,
                    "returned {} ({})",
                    program.ty.verdict(o.ret),
                    o.ret as i64
                );
                if let Some(t) = &o.redirect {
                    let _ = writeln!(out, "redirected to {t}");
                }
                if let Some(p) = o.packet.filter(|p| *p != bytes) {
                    let hex: Vec<String> = p.iter().map(|b| format!("{b:02x}")).collect();
                    let _ = writeln!(out, "packet now ({} bytes): {}", p.len(), hex.join(""));
                }
                if o.unsubmitted > 0 {
                    let _ = writeln!(
                        out,
                        "warning: {} ring buffer records were reserved and never submitted",
                        o.unsubmitted
                    );
                }
                None
            }
            // Input the run refused (too short for its context...): no maps to show.
            Err(e @ bpf_kernel::RunError::Input(_)) => return Err(e.to_string()),
            Err(e) => Some(describe(session, &e)),
        }
    };
    print_events(session, args.show_events, out);
    let maps = session.dump_maps(None)?;
    if !maps.is_empty() {
        let _ = write!(out, "{maps}");
    }
    match result {
        None => Ok(()),
        Some(e) => {
            // What ran before the fault is shown; then the fault.
            let _ =
                std::io::Write::write_all(&mut std::io::stdout(), std::mem::take(out).as_bytes());
            Err(e)
        }
    }
}

/// A run error; a trap with its backtrace (source lines with -g).
fn describe(session: &Session, e: &bpf_kernel::RunError) -> String {
    match e {
        bpf_kernel::RunError::Trap(t) => format!(
            "{}{}",
            t.kind,
            bpf_linker::format_backtrace(&session.backtrace(t), super::describe_frame)
        ),
        other => other.to_string(),
    }
}

fn print_events(session: &Session, limit: usize, out: &mut String) {
    let Some(kernel) = session.kernel() else {
        return;
    };
    let events = kernel.take_events();
    for e in events.iter().take(limit) {
        let hex: Vec<String> = e.data.iter().map(|b| format!("{b:02x}")).collect();
        let _ = writeln!(
            out,
            "{:?} {} cpu {}: {} bytes: {}",
            e.kind,
            e.map,
            e.cpu,
            e.data.len(),
            hex.join("")
        );
    }
    let dropped = kernel.dropped_events();
    if events.len() > limit || dropped > 0 {
        let _ = writeln!(
            out,
            "({} records, {} shown, {} dropped)",
            events.len() as u64 + dropped,
            limit.min(events.len()),
            dropped
        );
    }
}
