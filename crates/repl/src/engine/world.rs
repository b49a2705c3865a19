//! The session's surroundings beyond C inputs: the engine that runs the
//! code (interpreter or JIT), and the kernel world of kernel-style inputs
//! — their maps, program runs on packets or context bytes (undone with
//! `%undo` like an input), and the Linux verifier's verdict on a program.

use super::{Origin, Repl};
use bpf_jit::EngineKind;
use bpf_kernel::{ContextKind, Input, RunError};
use std::fmt::Write as _;

/// What a program runs on (`%run-prog NAME --packet HEX|--pcap FILE|--ctx HEX`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProgInput {
    /// One packet (Ethernet frame).
    Packet(Vec<u8>),
    /// Every packet of a pcap or pcapng file.
    Pcap(std::path::PathBuf),
    /// Context bytes for tracing programs.
    Context(Vec<u8>),
}

/// What a program run printed: its report, and whether it failed (then
/// the run's effects were rolled back).
pub struct ProgRun {
    pub report: String,
    pub error: Option<String>,
}

impl Repl {
    /// Makes `kind` the engine of later runs; returns a note when the host
    /// cannot generate code and the interpreter stays.
    pub fn set_engine(&mut self, kind: EngineKind) -> Option<String> {
        bpf_jit::install(self.session.vm_mut(), kind)
    }

    /// The name of the engine in use (`interp`, `jit`, `auto`).
    pub fn engine_name(&self) -> &str {
        bpf_jit::engine_name(self.session.vm())
    }

    /// Why the engine asked for at start is not in use (once).
    pub fn take_engine_note(&mut self) -> Option<String> {
        self.engine_note.take()
    }

    /// One line per map of the kernel world: name, type and sizes, handle.
    pub fn list_maps(&self) -> String {
        self.session.list_maps()
    }

    /// The contents of map `name`.
    pub fn dump_map(&self, name: &str) -> Result<String, String> {
        self.session.dump_maps(Some(name))
    }

    /// Runs program `name` (a function in a program section, or a section
    /// holding one) once on `input`. Its effects (maps, clock, random
    /// state) are one entry for `%undo`; a run that faults changes nothing.
    pub fn run_program(
        &mut self,
        name: &str,
        input: &ProgInput,
        command: &str,
    ) -> Result<ProgRun, String> {
        let program = self.session.program(name)?;
        let kind = ContextKind::of(program.ty)?;
        let ty = program.ty.name();
        match (input, kind) {
            (ProgInput::Context(_), ContextKind::Xdp | ContextKind::Skb) => {
                return Err(format!(
                "{ty} programs run on packets (--packet HEX or --pcap FILE), not on context bytes"
            ))
            }
            (ProgInput::Packet(_) | ProgInput::Pcap(_), ContextKind::Bytes) => {
                return Err(format!(
                    "{ty} programs run on context bytes (--ctx HEX), not on packets"
                ))
            }
            _ => {}
        }
        let packets = match input {
            // At most --memory-limit bytes, and no devices (/dev/zero).
            ProgInput::Pcap(path) => {
                let bytes =
                    bpf_vm::files::read_bounded(path, "", self.memory_limit, "--memory-limit")?;
                Some(bpf_kernel::read_pcap(&path.display().to_string(), &bytes)?)
            }
            _ => None,
        };
        self.inputs += 1;
        let origin = Origin {
            name: format!("input {}", self.inputs),
            first_line: 1,
        };
        let mut report = format!(
            "program {} (section {}, {ty})\n",
            program.name, program.section
        );
        let start = self.begin_input();
        let mut error = None;
        if let Some(packets) = packets {
            match self.session.run_program_pcap(&program, &packets) {
                Ok(r) => {
                    let stopped = r.stopped.clone();
                    let mut r = r;
                    r.stopped = None;
                    let _ = write!(report, "{r}");
                    if let Some((n, e)) = stopped {
                        error = Some(format!("packet {n}: {}", self.describe_run_error(&e)));
                    }
                }
                Err(e) => error = Some(self.describe_run_error(&e)),
            }
        } else {
            let (bytes, input) = match input {
                ProgInput::Packet(b) => (
                    b,
                    Input::Packet {
                        data: b,
                        timestamp_ns: None,
                    },
                ),
                ProgInput::Context(b) => (b, Input::Context(b)),
                ProgInput::Pcap(_) => unreachable!("read above"),
            };
            match self.session.run_program(&program, input) {
                Ok(o) => {
                    let _ = writeln!(
                        report,
                        "returned {} ({})",
                        program.ty.verdict(o.ret),
                        o.ret as i64
                    );
                    if let Some(t) = &o.redirect {
                        let _ = writeln!(report, "redirected to {t}");
                    }
                    if let Some(p) = o.packet.filter(|p| p != bytes) {
                        let hex: String = p.iter().map(|b| format!("{b:02x}")).collect();
                        let _ = writeln!(report, "packet now ({} bytes): {hex}", p.len());
                    }
                    if o.unsubmitted > 0 {
                        let _ = writeln!(
                            report,
                            "warning: {} ring buffer records were reserved and never submitted",
                            o.unsubmitted
                        );
                    }
                }
                Err(RunError::Input(m)) => {
                    // Refused before running: nothing to show but why.
                    self.abandon_input(start, false);
                    return Err(m);
                }
                Err(e) => error = Some(self.describe_run_error(&e)),
            }
        }
        // What the program printed (bpf_printk) comes after the header.
        let trace = String::from_utf8_lossy(&self.stdout.take()).into_owned();
        let header = report.find('\n').map_or(0, |i| i + 1);
        report.insert_str(header, &trace);
        report.push_str(&self.take_events());
        match error {
            Some(e) => {
                self.abandon_input(start, false);
                Ok(ProgRun {
                    report,
                    error: Some(format!("{e}\n(the run's changes to maps were rolled back)")),
                })
            }
            None => {
                self.accept_command(origin, command, start);
                Ok(ProgRun {
                    report,
                    error: None,
                })
            }
        }
    }

    /// Ring buffer and perf records sent during a run, one line each.
    fn take_events(&self) -> String {
        let mut out = String::new();
        let Some(kernel) = self.session.kernel() else {
            return out;
        };
        for e in kernel.take_events() {
            let hex: String = e.data.iter().map(|b| format!("{b:02x}")).collect();
            let _ = writeln!(
                out,
                "{:?} {} cpu {}: {} bytes: {hex}",
                e.kind,
                e.map,
                e.cpu,
                e.data.len()
            );
        }
        out
    }

    fn describe_run_error(&self, e: &RunError) -> String {
        match e {
            RunError::Trap(t) => self.describe_trap(t),
            RunError::Input(m) => m.clone(),
        }
    }

    /// The Linux verifier's verdict on program `name` (kernel mode of the
    /// verifier): `section` gives the program type of a function outside
    /// a program section; `unprivileged` checks as a loader without CAP_BPF.
    /// Ok(accepted, report).
    pub fn verify_program(
        &self,
        name: &str,
        section: Option<&str>,
        unprivileged: bool,
    ) -> Result<(bool, String), String> {
        let ty = match section {
            Some(s) => bpf_kernel::ProgType::from_section(s).ok_or_else(|| {
                format!("`{s}` is not a program section libbpf knows (xdp, tc, kprobe/..., ...)")
            })?,
            None => match self.session.program(name) {
                Ok(p) => p.ty,
                Err(_) if self.session.function_slots(name).is_some() => {
                    return Err(format!(
                        "`{name}` is not in a program section: put it in one \
                         (SEC(\"xdp\")...) or name the type, e.g. %verify {name} --type xdp"
                    ))
                }
                Err(e) => return Err(e),
            },
        };
        let options = if unprivileged {
            bpf_verifier::KernelOptions::unprivileged()
        } else {
            bpf_verifier::KernelOptions::privileged()
        };
        let source = |file: &str, line: u32| self.input_line(file, line);
        let report =
            bpf_linker::verify::verify_linked_function(&self.session, name, ty, options, &source)?;
        Ok((report.verdict.accepted(), without_timing(&report.text)))
    }

    /// Kernel mode by default for kernel-style programs: a note for each
    /// program of the newest linked object that the Linux verifier would
    /// refuse (`%verify NAME` shows why). Empty for ordinary C.
    pub(super) fn refusal_notes(&self) -> String {
        let Some(last) = self.session.objects().len().checked_sub(1) else {
            return String::new();
        };
        let has_programs = self.session.objects()[last].graph.sections.iter().any(|s| {
            s.kind == bpf_linker::graph::SectionKind::Code
                && bpf_kernel::ProgType::from_section(&s.name).is_some()
        });
        if !has_programs {
            return String::new();
        }
        let mut notes = String::new();
        for p in self.session.programs() {
            if self.session.object_at(p.slot) != Some(last) {
                continue;
            }
            if let Ok((false, _)) = self.verify_program(&p.name, None, false) {
                let _ = writeln!(
                    notes,
                    "note: the Linux verifier would refuse program `{0}` (it still runs here); \
                     %verify {0} shows why",
                    p.name
                );
            }
        }
        notes
    }

    /// Line `line` of the input that debug info calls `file` (the newest
    /// one whose lines cover it).
    pub fn input_line(&self, file: &str, line: u32) -> Option<String> {
        self.accepted_inputs()
            .rev()
            .filter(|(origin, _)| origin.name == file && line >= origin.first_line)
            .find_map(|(origin, source)| {
                let index = (line - origin.first_line) as usize;
                source.lines().nth(index).map(|l| l.trim_end().to_string())
            })
    }
}

/// A verifier report without its time (`; verified in 0.04 ms`), so the
/// same program gets the same report (transcripts compare them; `%time`
/// is for times).
fn without_timing(report: &str) -> String {
    const MARK: &str = "; verified in ";
    match report.find(MARK) {
        Some(i) => {
            let rest = &report[i + MARK.len()..];
            let end = rest.find(" ms").map_or(rest.len(), |j| j + " ms".len());
            format!("{}{}", &report[..i], &rest[end..])
        }
        None => report.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn reports_lose_their_timing() {
        assert_eq!(
            super::without_timing("accept it [3 of 3 in bounds; verified in 0.04 ms]\nerror"),
            "accept it [3 of 3 in bounds]\nerror"
        );
        assert_eq!(super::without_timing("no time"), "no time");
    }
}
