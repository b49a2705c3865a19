//! Kernel-style programs in a session: which functions are programs (by
//! libbpf's section conventions), running one on a packet, context bytes
//! or a capture, and the maps they changed. This is the library API that
//! `bpf-jitlink --prog` and the REPL's `%run-prog`/`%maps` use.

use crate::graph::{Definition, Scope, SectionKind, SymbolKind};
use crate::session::Session;
use bpf_kernel::{Input, Outcome, PcapPacket, PcapReport, ProgType, RunError};
use std::fmt::Write;

/// A program: a function in a section whose name declares a program type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program {
    /// The function's name.
    pub name: String,
    /// The section it is in (`xdp`, `kprobe/do_sys_open`).
    pub section: String,
    /// The object that defines it.
    pub object: String,
    /// The code slot of its first instruction.
    pub slot: usize,
    pub ty: ProgType,
}

impl Session {
    /// Every program of every linked object, in link order.
    pub fn programs(&self) -> Vec<Program> {
        let mut out = Vec::new();
        for obj in &self.objects {
            let g = &obj.graph;
            let mut found: Vec<Program> = g
                .symbols
                .iter()
                .filter(|s| s.kind == SymbolKind::Function || s.kind == SymbolKind::Other)
                .filter_map(|s| {
                    let Definition::Defined { section, offset } = s.def else {
                        return None;
                    };
                    let sec = &g.sections[section];
                    if sec.kind != SectionKind::Code || s.name.is_empty() {
                        return None;
                    }
                    // Static functions in a program section are subprograms.
                    if s.scope == Scope::Local && s.kind != SymbolKind::Function {
                        return None;
                    }
                    let ty = ProgType::from_section(&sec.name)?;
                    let slot = self.vm.code_index(sec.addr? + offset)?;
                    Some(Program {
                        name: s.name.clone(),
                        section: sec.name.clone(),
                        object: obj.name.clone(),
                        slot,
                        ty,
                    })
                })
                .collect();
            found.sort_by_key(|p| p.slot);
            found.dedup_by_key(|p| p.slot);
            out.extend(found);
        }
        out
    }

    /// The program named `name`: a function name, or a section name that
    /// holds exactly one program.
    pub fn program(&self, name: &str) -> Result<Program, String> {
        let all = self.programs();
        if let Some(p) = all.iter().find(|p| p.name == name) {
            return Ok(p.clone());
        }
        let in_section: Vec<&Program> = all.iter().filter(|p| p.section == name).collect();
        match in_section.as_slice() {
            [one] => Ok((*one).clone()),
            [] if all.is_empty() => Err(format!(
                "no program named `{name}`: the objects have no program sections \
                 (SEC(\"xdp\"), SEC(\"kprobe/...\"), ...)"
            )),
            [] => Err(format!(
                "no program named `{name}`; programs: {}",
                all.iter()
                    .map(|p| format!("{} (section {})", p.name, p.section))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            many => Err(format!(
                "section `{name}` holds {} programs; name one: {}",
                many.len(),
                many.iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }

    /// Runs a program once.
    pub fn run_program(&mut self, program: &Program, input: Input) -> Result<Outcome, RunError> {
        let kernel = self.kernel.clone().ok_or_else(|| {
            RunError::Input("the session has no kernel world (Session::enable_kernel)".into())
        })?;
        kernel.run(&mut self.vm, program.slot, &program.ty, input)
    }

    /// Runs a program on every packet of a capture.
    pub fn run_program_pcap(
        &mut self,
        program: &Program,
        packets: &[PcapPacket],
    ) -> Result<PcapReport, RunError> {
        let kernel = self.kernel.clone().ok_or_else(|| {
            RunError::Input("the session has no kernel world (Session::enable_kernel)".into())
        })?;
        Ok(bpf_kernel::run_pcap(
            &kernel,
            &mut self.vm,
            program.slot,
            &program.ty,
            packets,
        ))
    }

    /// Puts program `prog` at `index` of program array `map` (what a
    /// loader does before tail calls can reach it).
    pub fn set_tail_call(&mut self, map: &str, index: u32, prog: &str) -> Result<(), String> {
        let p = self.program(prog)?;
        let handle = self.map_handle(map)?;
        let kernel = self
            .kernel
            .as_ref()
            .ok_or("the session has no kernel world")?;
        kernel.set_prog(handle, index, Some(bpf_vm::code_addr(p.slot)))
    }

    /// The handle of the map named `name`.
    pub fn map_handle(&self, name: &str) -> Result<u64, String> {
        let kernel = self
            .kernel
            .as_ref()
            .ok_or("the session has no kernel world")?;
        let maps = kernel.maps();
        // The newest map of that name (a REPL may redefine one).
        maps.iter()
            .rev()
            .find(|m| m.name == name)
            .map(|m| m.handle)
            .ok_or_else(|| {
                let names: Vec<&str> = maps.iter().map(|m| m.name.as_str()).collect();
                if names.is_empty() {
                    format!("no map named `{name}`: no maps are defined")
                } else {
                    format!("no map named `{name}`; maps: {}", names.join(", "))
                }
            })
    }

    /// One line per map: name, type and sizes, handle.
    pub fn list_maps(&self) -> String {
        let mut out = String::new();
        if let Some(k) = &self.kernel {
            for m in k.maps() {
                let _ = writeln!(
                    out,
                    "{:<24} {}  at {:#x}",
                    m.name,
                    m.spec.describe(),
                    m.handle
                );
            }
        }
        out
    }

    /// The contents of one map, or of all maps (`None`).
    pub fn dump_maps(&self, name: Option<&str>) -> Result<String, String> {
        let kernel = self
            .kernel
            .as_ref()
            .ok_or("the session has no kernel world")?;
        let handles: Vec<u64> = match name {
            Some(n) => vec![self.map_handle(n)?],
            None => kernel.maps().iter().map(|m| m.handle).collect(),
        };
        Ok(handles
            .iter()
            .filter_map(|h| kernel.dump_map(&self.vm.mem, *h))
            .collect())
    }
}

/// Bytes from hex text (`45 00 00 1c`, `0x4500001c`, `45:00:00:1c`).
pub fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let digits: String = text
        .split(|c: char| c.is_whitespace() || c == ':' || c == ',')
        .map(|w| w.strip_prefix("0x").unwrap_or(w))
        .collect();
    if let Some(c) = digits.chars().find(|c| !c.is_ascii_hexdigit()) {
        return Err(format!("hex bytes: `{c}` is not a hex digit"));
    }
    if !digits.len().is_multiple_of(2) {
        return Err(format!(
            "hex bytes: {} digits is an odd number",
            digits.len()
        ));
    }
    (0..digits.len())
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(&digits[i..i + 2], 16)
                .map_err(|_| format!("hex bytes: `{}` is not a hex byte", &digits[i..i + 2]))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_in_the_usual_spellings() {
        assert_eq!(parse_hex("45 00 0a").unwrap(), [0x45, 0, 10]);
        assert_eq!(parse_hex("0x45000a").unwrap(), [0x45, 0, 10]);
        assert_eq!(parse_hex("45:00:0A").unwrap(), [0x45, 0, 10]);
        assert!(parse_hex("450").is_err());
        assert!(parse_hex("zz").is_err());
        assert!(parse_hex("éé").is_err());
        assert_eq!(parse_hex("").unwrap(), Vec::<u8>::new());
    }
}
