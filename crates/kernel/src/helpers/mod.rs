//! The kernel helpers bpf-repl implements, registered under the kernel's
//! ids. Each works on VM memory through checked accesses; results and
//! errors are what the kernel's helper returns (negative errno values),
//! and misuse the kernel's verifier would have refused (a pointer that is
//! not a map, a record submitted twice) is a fault naming the helper.

mod map;
mod misc;
mod output;
mod packet;

use crate::State;
use bpf_kabi::helpers::kernel_helper_name;
use bpf_vm::{HelperError, HelperEvent, HelperStep, Memory, Vm};
use std::cell::RefCell;
use std::rc::Rc;

pub(crate) type Shared = Rc<RefCell<State>>;
type Plain = fn(&Shared, &mut Memory, [u64; 5]) -> Result<u64, HelperError>;
type Callback = fn(&Shared, &mut Memory, HelperEvent) -> Result<HelperStep, HelperError>;

/// Helpers that return a value.
const PLAIN: &[(u32, Plain)] = &[
    (1, map::lookup),
    (2, map::update),
    (3, map::delete),
    (4, misc::probe_read),
    (5, misc::ktime),
    (6, output::trace_printk),
    (7, misc::prandom),
    (8, misc::zero), // bpf_get_smp_processor_id: one CPU
    (9, packet::skb_store_bytes),
    (14, misc::pid_tgid),
    (15, misc::uid_gid),
    (16, misc::comm),
    (23, packet::redirect),
    (25, output::perf_event_output),
    (26, packet::skb_load_bytes),
    (28, packet::csum_diff),
    (39, misc::zero), // bpf_skb_pull_data: packets are linear
    (42, misc::zero), // bpf_get_numa_node_id
    (44, packet::xdp_adjust_head),
    (45, misc::probe_read_str),
    (51, packet::redirect_map),
    (54, packet::xdp_adjust_meta),
    (65, packet::xdp_adjust_tail),
    (80, misc::cgroup_id),
    (87, map::push),
    (88, map::pop),
    (89, map::peek),
    (112, misc::probe_read),
    (113, misc::probe_read),
    (114, misc::probe_read_str),
    (115, misc::probe_read_str),
    (118, misc::jiffies),
    (125, misc::ktime),
    (130, output::ringbuf_output),
    (131, output::ringbuf_reserve),
    (132, output::ringbuf_submit),
    (133, output::ringbuf_discard),
    (134, output::ringbuf_query),
    (160, misc::ktime),
    (165, output::snprintf),
    (177, output::trace_vprintk),
    (182, misc::strncmp),
    (195, map::lookup_percpu),
    (208, misc::ktime),
];

/// Helpers that call back into BPF or tail-call.
const CALLBACKS: &[(u32, Callback)] = &[
    (12, map::tail_call),
    (164, map::for_each),
    (181, misc::bpf_loop),
];

/// The kernel helpers bpf-repl implements: (id, name), by id.
pub fn implemented_helpers() -> Vec<(u32, &'static str)> {
    let mut v: Vec<(u32, &'static str)> = PLAIN
        .iter()
        .map(|(id, _)| *id)
        .chain(CALLBACKS.iter().map(|(id, _)| *id))
        .map(|id| {
            (
                id,
                kernel_helper_name(id as i32).expect("a kernel helper id"),
            )
        })
        .collect();
    v.sort();
    v
}

pub(crate) fn register(state: &Shared, vm: &mut Vm) {
    for &(id, imp) in PLAIN {
        let st = state.clone();
        let name = kernel_helper_name(id as i32).expect("a kernel helper id");
        vm.register_helper(id, name, Box::new(move |mem, args| imp(&st, mem, args)));
    }
    for &(id, imp) in CALLBACKS {
        let st = state.clone();
        let name = kernel_helper_name(id as i32).expect("a kernel helper id");
        vm.register_callback_helper(id, name, Box::new(move |mem, ev| imp(&st, mem, ev)));
    }
}

/// A negative errno as the `u64` a helper returns.
pub(crate) fn errno(e: i64) -> u64 {
    (-e) as u64
}

/// A fault naming the helper.
pub(crate) fn fault(helper: &str, what: impl std::fmt::Display) -> HelperError {
    HelperError::Fault(format!("{helper}: {what}"))
}

/// A size argument, bounded so that no helper copies absurd amounts.
pub(crate) fn size_arg(helper: &str, size: u64) -> Result<usize, HelperError> {
    const MAX: u64 = 1 << 24;
    if size > MAX {
        return Err(fault(
            helper,
            format!("size {size} is larger than {MAX} bytes"),
        ));
    }
    Ok(size as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_registered_id_is_a_kernel_helper_once() {
        let ids = implemented_helpers();
        let mut seen = std::collections::HashSet::new();
        for (id, name) in &ids {
            assert!(seen.insert(*id), "{name} twice");
        }
        assert!(ids.contains(&(1, "bpf_map_lookup_elem")));
        assert!(ids.contains(&(181, "bpf_loop")));
    }

    /// The verifier checks programs against `bpf-kabi`'s prototypes: every
    /// helper this world implements must have one, and a callback helper
    /// here must call back there.
    #[test]
    fn every_implemented_helper_has_a_prototype() {
        for (id, name) in implemented_helpers() {
            let proto = bpf_kabi::helpers::prototype(id)
                .unwrap_or_else(|| panic!("{name}#{id} has no prototype in bpf-kabi"));
            let calls_back = CALLBACKS.iter().any(|(i, _)| *i == id) && id != 12;
            assert_eq!(proto.callback.is_some(), calls_back, "{name}");
        }
    }
}
