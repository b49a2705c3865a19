//! Map contents as text, in the spirit of `bpftool map dump`: keys and
//! values of 1, 2, 4 or 8 bytes as unsigned numbers, others as hex bytes;
//! arrays list only their non-zero elements.

use crate::maps::Map;
use crate::spec::Layout;
use bpf_vm::Memory;
use std::fmt::Write;

/// Most elements listed per map; the rest are counted.
const MAX_LISTED: usize = 1000;

fn bytes_text(b: &[u8]) -> String {
    match b.len() {
        1 | 2 | 4 | 8 => {
            let mut v = [0u8; 8];
            v[..b.len()].copy_from_slice(b);
            u64::from_le_bytes(v).to_string()
        }
        _ => b
            .iter()
            .map(|x| format!("{x:02x}"))
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// The header line and contents of one map.
pub(crate) fn dump(m: &Map, mem: &Memory) -> String {
    let mut out = format!("map {} ({}):\n", m.name, m.spec.describe());
    let vsize = m.spec.value_size as usize;
    let mut listed = 0;
    let mut skipped = 0;
    let mut zero = 0;
    let mut line = |out: &mut String, text: String| {
        if listed < MAX_LISTED {
            let _ = writeln!(out, "  {text}");
            listed += 1;
        } else {
            skipped += 1;
        }
    };
    match m.spec.map_type.layout() {
        Layout::Array | Layout::Hash => {
            let array = m.spec.map_type.layout() == Layout::Array;
            for (key, addr) in m.elements() {
                let value = mem.read_bytes(addr, vsize).unwrap_or_default();
                if array && value.iter().all(|b| *b == 0) {
                    zero += 1;
                    continue;
                }
                line(
                    &mut out,
                    format!("{} => {}", bytes_text(&key), bytes_text(&value)),
                );
            }
        }
        Layout::Queue => {
            for v in m.queued() {
                line(&mut out, bytes_text(&v));
            }
        }
        Layout::Progs => {
            for (i, entry) in m.progs() {
                line(&mut out, format!("{i} => program at {entry:#x}"));
            }
        }
        Layout::Ring | Layout::None => {
            line(
                &mut out,
                "(records go to user space as they are sent)".to_string(),
            );
        }
    }
    if listed == 0 && zero == 0 {
        out.push_str("  (empty)\n");
    }
    if zero > 0 {
        let _ = writeln!(out, "  ({zero} zero elements not shown)");
    }
    if skipped > 0 {
        let _ = writeln!(out, "  ({skipped} more elements not shown)");
    }
    out
}
