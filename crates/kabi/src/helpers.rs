//! The kernel helpers: `call N` (with `src = 0`) calls helper N of the
//! kernel's `enum bpf_func_id` (include/uapi/linux/bpf.h,
//! `___BPF_FUNC_MAPPER`; ids are fixed forever, and the list ended at 211
//! when the kernel moved to kfuncs). One table: each helper's name and,
//! for the modelled ones, its prototype as the kernel's `struct
//! bpf_func_proto` states it (sources: `kernel/bpf/helpers.c`,
//! `kernel/bpf/ringbuf.c`, `kernel/bpf/bpf_iter.c`,
//! `kernel/trace/bpf_trace.c`, `net/core/filter.c`), with the program
//! types whose `get_func_proto` offers it and the callbacks it makes.
//!
//! Ids are named as in messages and disassembly: `bpf_map_lookup_elem#1`.

use crate::maps::map_type::*;
use crate::prog::sets::*;
use crate::prog::{ProgSet, ProgType};

/// What a helper argument must be (`enum bpf_arg_type` with its flags).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arg {
    /// Not used (`ARG_DONTCARE`): not read, may be uninitialised.
    None,
    /// Any initialised value (`ARG_ANYTHING`).
    Anything,
    /// A map (`ARG_CONST_MAP_PTR`).
    MapPtr,
    /// Readable, initialised memory of the map's key size (`ARG_PTR_TO_MAP_KEY`).
    MapKey,
    /// Readable, initialised memory of the map's value size (`ARG_PTR_TO_MAP_VALUE`).
    MapValue,
    /// Writable memory of the map's value size, filled by the helper
    /// (`ARG_PTR_TO_MAP_VALUE | MEM_UNINIT`).
    UninitMapValue,
    /// Readable, initialised memory; its size is the next argument
    /// (`ARG_PTR_TO_MEM | MEM_RDONLY`).
    Mem,
    /// As [`Arg::Mem`], or NULL (`ARG_PTR_TO_MEM | PTR_MAYBE_NULL | MEM_RDONLY`).
    MemOrNull,
    /// Writable, initialised memory the helper reads and writes; its size
    /// is the next argument (`ARG_PTR_TO_MEM`).
    MemRw,
    /// As [`Arg::MemRw`], or NULL (`ARG_PTR_TO_MEM_OR_NULL`).
    MemRwOrNull,
    /// Writable memory the helper fills; its size is the next argument
    /// (`ARG_PTR_TO_UNINIT_MEM`).
    UninitMem,
    /// The size of the memory argument before it: a bounded number > 0
    /// (`ARG_CONST_SIZE`).
    Size,
    /// As [`Arg::Size`], 0 allowed (`ARG_CONST_SIZE_OR_ZERO`).
    SizeOrZero,
    /// A constant allocation size (`ARG_CONST_ALLOC_SIZE_OR_ZERO`).
    AllocSize,
    /// The program's context, unmodified (`ARG_PTR_TO_CTX`).
    Ctx,
    /// Memory from [`Ret::AllocOrNull`], released by the call
    /// (`ARG_PTR_TO_ALLOC_MEM | OBJ_RELEASE`).
    ReleaseAlloc,
    /// A BPF function of the program, called back (`ARG_PTR_TO_FUNC`).
    Func,
    /// A pointer into the stack, or NULL (`ARG_PTR_TO_STACK_OR_NULL`).
    StackOrNull,
    /// A NUL-terminated string in read-only global data (`ARG_PTR_TO_CONST_STR`).
    ConstStr,
    /// 8 writable bytes the helper fills (`ARG_PTR_TO_LONG`).
    Long,
    /// A `struct bpf_spin_lock` inside a map value (`ARG_PTR_TO_SPIN_LOCK`).
    SpinLock,
    /// A `struct bpf_timer` inside a map value (`ARG_PTR_TO_TIMER`).
    Timer,
}

/// What a helper returns (`enum bpf_return_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ret {
    /// A number (`RET_INTEGER`).
    Integer,
    /// Nothing: r0 is not readable after the call (`RET_VOID`).
    Void,
    /// A value of the map in argument 1, or NULL (`RET_PTR_TO_MAP_VALUE_OR_NULL`).
    MapValueOrNull,
    /// Memory of the size in argument 2, or NULL, which must be released
    /// (`RET_PTR_TO_ALLOC_MEM_OR_NULL`, acquires a reference).
    AllocOrNull,
}

/// Who may load a program calling the helper, beyond its program types
/// (`bpf_base_func_proto` checks `bpf_capable()` and `perfmon_capable()`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Privilege {
    Any,
    /// `CAP_BPF`.
    CapBpf,
    /// `CAP_PERFMON`.
    Perfmon,
}

/// What a callback function receives in one register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallbackArg {
    /// Not initialised.
    None,
    /// Some number (an index).
    Scalar,
    /// The caller's argument register `.0` (1-based), as it was.
    Caller(u8),
    /// The map of the call (argument 1, or the map holding the timer).
    Map,
    /// A key of that map.
    MapKey,
    /// A value of that map.
    MapValue,
}

/// A helper that calls a BPF function back (`ARG_PTR_TO_FUNC`): what the
/// function receives and must return (`set_*_callback_state`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Callback {
    /// r1-r5 of the callback.
    pub args: [CallbackArg; 5],
    /// The return values allowed (`callback_ret_range`), inclusive.
    pub ret: (u64, u64),
    /// Runs later, on its own (timers): it sees none of the caller's state.
    pub asynchronous: bool,
}

/// One helper's prototype.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HelperProto {
    pub args: [Arg; 5],
    pub ret: Ret,
    /// The program types that may call it.
    pub types: ProgSet,
    pub privilege: Privilege,
    /// Only for programs with a GPL-compatible license.
    pub gpl_only: bool,
    /// The helper may move or resize the packet: every packet pointer is
    /// invalid after it (`bpf_helper_changes_pkt_data`).
    pub changes_packet: bool,
    /// Map types the map argument must have (`check_map_func_compatibility`);
    /// empty: any type that admits the helper ([`crate::maps::admits_helper`]).
    pub map_types: &'static [u32],
    pub callback: Option<Callback>,
}

impl HelperProto {
    /// True if a program of type `t` may call it (privileges aside).
    pub fn allows(&self, t: ProgType) -> bool {
        self.types.contains(t)
    }

    const fn gpl(self) -> Self {
        HelperProto {
            gpl_only: true,
            ..self
        }
    }

    const fn needs(self, privilege: Privilege) -> Self {
        HelperProto { privilege, ..self }
    }

    const fn moves_packet(self) -> Self {
        HelperProto {
            changes_packet: true,
            ..self
        }
    }

    const fn maps(self, map_types: &'static [u32]) -> Self {
        HelperProto { map_types, ..self }
    }

    const fn callback(self, c: Callback) -> Self {
        HelperProto {
            callback: Some(c),
            ..self
        }
    }
}

/// A kernel helper: id, name and (if modelled) prototype.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Helper {
    pub id: u32,
    /// The kernel's name, `bpf_` included.
    pub name: &'static str,
    pub proto: Option<HelperProto>,
}

const fn p(args: &[Arg], ret: Ret, types: ProgSet) -> HelperProto {
    let mut a = [Arg::None; 5];
    let mut i = 0;
    while i < args.len() {
        a[i] = args[i];
        i += 1;
    }
    HelperProto {
        args: a,
        ret,
        types,
        privilege: Privilege::Any,
        gpl_only: false,
        changes_packet: false,
        map_types: &[],
        callback: None,
    }
}

/// A row with a prototype; the id is the row's place in [`HELPERS`].
const fn h(name: &'static str, proto: HelperProto) -> (&'static str, Option<HelperProto>) {
    (name, Some(proto))
}

/// A row known by name only.
const fn u(name: &'static str) -> (&'static str, Option<HelperProto>) {
    (name, None)
}

/// `bpf_base_func_proto`: every program type.
const BASE: ProgSet = ProgSet::ALL;
const KPROBE: ProgSet = ProgSet::of(&[ProgType::Kprobe]);
/// fentry/fexit/fmod_ret and LSM (`bpf_get_func_arg` and friends).
const FENTRY: ProgSet = ProgSet::of(&[ProgType::Tracing, ProgType::Lsm]);

/// `bpf_loop(nr, fn, ctx, flags)`: `fn(index, ctx)` returns 0 or 1.
const LOOP: Callback = Callback {
    args: [
        CallbackArg::Scalar,
        CallbackArg::Caller(3),
        CallbackArg::None,
        CallbackArg::None,
        CallbackArg::None,
    ],
    ret: (0, 1),
    asynchronous: false,
};

/// `bpf_for_each_map_elem(map, fn, ctx, flags)`: `fn(map, key, value, ctx)`.
const FOR_EACH: Callback = Callback {
    args: [
        CallbackArg::Map,
        CallbackArg::MapKey,
        CallbackArg::MapValue,
        CallbackArg::Caller(3),
        CallbackArg::None,
    ],
    ret: (0, 1),
    asynchronous: false,
};

/// `bpf_timer_set_callback(timer, fn)`: `fn(map, key, value)`, later.
const TIMER: Callback = Callback {
    args: [
        CallbackArg::Map,
        CallbackArg::MapKey,
        CallbackArg::MapValue,
        CallbackArg::None,
        CallbackArg::None,
    ],
    ret: (0, 1),
    asynchronous: true,
};

use Arg::{
    AllocSize, Anything, ConstStr, Ctx, Func, Long, MapKey, MapPtr, MapValue, Mem, MemOrNull,
    MemRw, MemRwOrNull, ReleaseAlloc, Size, SizeOrZero, SpinLock, StackOrNull, Timer,
    UninitMapValue, UninitMem,
};
use Privilege::{CapBpf, Perfmon};
use Ret::{AllocOrNull, Integer, MapValueOrNull, Void};

/// Every helper, by id - 1.
static HELPERS: [(&str, Option<HelperProto>); 211] = [
    /*   1 */
    h(
        "bpf_map_lookup_elem",
        p(&[MapPtr, MapKey], MapValueOrNull, BASE),
    ),
    /*   2 */
    h(
        "bpf_map_update_elem",
        p(&[MapPtr, MapKey, MapValue, Anything], Integer, BASE),
    ),
    /*   3 */ h("bpf_map_delete_elem", p(&[MapPtr, MapKey], Integer, BASE)),
    /*   4 */
    h(
        "bpf_probe_read",
        p(&[UninitMem, SizeOrZero, Anything], Integer, TRACING).gpl(),
    ),
    /*   5 */ h("bpf_ktime_get_ns", p(&[], Integer, BASE)),
    /*   6 */
    h(
        "bpf_trace_printk",
        p(&[Mem, Size], Integer, BASE).needs(Perfmon).gpl(),
    ),
    /*   7 */ h("bpf_get_prandom_u32", p(&[], Integer, BASE)),
    /*   8 */ h("bpf_get_smp_processor_id", p(&[], Integer, BASE)),
    /*   9 */
    h(
        "bpf_skb_store_bytes",
        p(&[Ctx, Anything, Mem, Size, Anything], Integer, SKB_WRITE).moves_packet(),
    ),
    /*  10 */
    h(
        "bpf_l3_csum_replace",
        p(&[Ctx, Anything, Anything, Anything, Anything], Integer, TC).moves_packet(),
    ),
    /*  11 */
    h(
        "bpf_l4_csum_replace",
        p(&[Ctx, Anything, Anything, Anything, Anything], Integer, TC).moves_packet(),
    ),
    /*  12 */
    h(
        "bpf_tail_call",
        p(&[Ctx, MapPtr, Anything], Void, BASE).maps(&[PROG_ARRAY]),
    ),
    /*  13 */
    h(
        "bpf_clone_redirect",
        p(&[Ctx, Anything, Anything], Integer, TC).moves_packet(),
    ),
    /*  14 */ h("bpf_get_current_pid_tgid", p(&[], Integer, TASK)),
    /*  15 */ h("bpf_get_current_uid_gid", p(&[], Integer, TASK)),
    /*  16 */ h("bpf_get_current_comm", p(&[UninitMem, Size], Integer, TASK)),
    /*  17 */ h("bpf_get_cgroup_classid", p(&[Ctx], Integer, TC)),
    /*  18 */
    h(
        "bpf_skb_vlan_push",
        p(&[Ctx, Anything, Anything], Integer, TC).moves_packet(),
    ),
    /*  19 */ h("bpf_skb_vlan_pop", p(&[Ctx], Integer, TC).moves_packet()),
    /*  20 */
    h(
        "bpf_skb_get_tunnel_key",
        p(&[Ctx, UninitMem, Size, Anything], Integer, TC),
    ),
    /*  21 */
    h(
        "bpf_skb_set_tunnel_key",
        p(&[Ctx, Mem, Size, Anything], Integer, TC),
    ),
    /*  22 */
    h(
        "bpf_perf_event_read",
        p(&[MapPtr, Anything], Integer, TRACING)
            .gpl()
            .maps(&[PERF_EVENT_ARRAY]),
    ),
    /*  23 */ h("bpf_redirect", p(&[Anything, Anything], Integer, TC_XDP)),
    /*  24 */ h("bpf_get_route_realm", p(&[Ctx], Integer, TC)),
    /*  25 */
    h(
        "bpf_perf_event_output",
        p(
            &[Ctx, MapPtr, Anything, Mem, SizeOrZero],
            Integer,
            PERF_OUTPUT,
        )
        .gpl()
        .maps(&[PERF_EVENT_ARRAY]),
    ),
    /*  26 */
    h(
        "bpf_skb_load_bytes",
        p(&[Ctx, Anything, UninitMem, Size], Integer, SKB),
    ),
    /*  27 */
    h(
        "bpf_get_stackid",
        p(&[Ctx, MapPtr, Anything], Integer, TRACING)
            .gpl()
            .maps(&[STACK_TRACE]),
    ),
    /*  28 */
    h(
        "bpf_csum_diff",
        p(
            &[MemOrNull, SizeOrZero, MemOrNull, SizeOrZero, Anything],
            Integer,
            SKB.or(XDP),
        ),
    ),
    /*  29 */
    h(
        "bpf_skb_get_tunnel_opt",
        p(&[Ctx, UninitMem, Size], Integer, TC),
    ),
    /*  30 */ h("bpf_skb_set_tunnel_opt", p(&[Ctx, Mem, Size], Integer, TC)),
    /*  31 */
    h(
        "bpf_skb_change_proto",
        p(&[Ctx, Anything, Anything], Integer, TC).moves_packet(),
    ),
    /*  32 */ h("bpf_skb_change_type", p(&[Ctx, Anything], Integer, TC)),
    /*  33 */
    h(
        "bpf_skb_under_cgroup",
        p(&[Ctx, MapPtr, Anything], Integer, TC).maps(&[CGROUP_ARRAY]),
    ),
    /*  34 */ h("bpf_get_hash_recalc", p(&[Ctx], Integer, TC)),
    /*  35 */ h("bpf_get_current_task", p(&[], Integer, TRACING).gpl()),
    /*  36 */
    h(
        "bpf_probe_write_user",
        p(&[Anything, Mem, Size], Integer, TRACING).gpl(),
    ),
    /*  37 */
    h(
        "bpf_current_task_under_cgroup",
        p(&[MapPtr, Anything], Integer, TRACING).maps(&[CGROUP_ARRAY]),
    ),
    /*  38 */
    h(
        "bpf_skb_change_tail",
        p(&[Ctx, Anything, Anything], Integer, SKB_WRITE).moves_packet(),
    ),
    /*  39 */
    h(
        "bpf_skb_pull_data",
        p(&[Ctx, Anything], Integer, SKB_WRITE).moves_packet(),
    ),
    /*  40 */ h("bpf_csum_update", p(&[Ctx, Anything], Integer, TC)),
    /*  41 */ h("bpf_set_hash_invalid", p(&[Ctx], Integer, TC)),
    /*  42 */ h("bpf_get_numa_node_id", p(&[], Integer, BASE)),
    /*  43 */
    h(
        "bpf_skb_change_head",
        p(&[Ctx, Anything, Anything], Integer, SKB_WRITE).moves_packet(),
    ),
    /*  44 */
    h(
        "bpf_xdp_adjust_head",
        p(&[Ctx, Anything], Integer, XDP).moves_packet(),
    ),
    /*  45 */
    h(
        "bpf_probe_read_str",
        p(&[UninitMem, SizeOrZero, Anything], Integer, TRACING).gpl(),
    ),
    /*  46 */ h("bpf_get_socket_cookie", p(&[Ctx], Integer, SKB)),
    /*  47 */ h("bpf_get_socket_uid", p(&[Ctx], Integer, SKB)),
    /*  48 */ h("bpf_set_hash", p(&[Ctx, Anything], Integer, TC)),
    /*  49 */ u("bpf_setsockopt"),
    /*  50 */
    h(
        "bpf_skb_adjust_room",
        p(&[Ctx, Anything, Anything, Anything], Integer, TC).moves_packet(),
    ),
    /*  51 */
    h(
        "bpf_redirect_map",
        p(&[MapPtr, Anything, Anything], Integer, XDP).maps(&[DEVMAP, DEVMAP_HASH, CPUMAP, XSKMAP]),
    ),
    /*  52 */ u("bpf_sk_redirect_map"),
    /*  53 */ u("bpf_sock_map_update"),
    /*  54 */
    h(
        "bpf_xdp_adjust_meta",
        p(&[Ctx, Anything], Integer, XDP).moves_packet(),
    ),
    /*  55 */
    h(
        "bpf_perf_event_read_value",
        p(&[MapPtr, Anything, UninitMem, Size], Integer, TRACING)
            .gpl()
            .maps(&[PERF_EVENT_ARRAY]),
    ),
    /*  56 */ u("bpf_perf_prog_read_value"),
    /*  57 */ u("bpf_getsockopt"),
    /*  58 */
    h(
        "bpf_override_return",
        p(&[Ctx, Anything], Integer, KPROBE).gpl(),
    ),
    /*  59 */ u("bpf_sock_ops_cb_flags_set"),
    /*  60 */ u("bpf_msg_redirect_map"),
    /*  61 */ u("bpf_msg_apply_bytes"),
    /*  62 */ u("bpf_msg_cork_bytes"),
    /*  63 */ u("bpf_msg_pull_data"),
    /*  64 */ u("bpf_bind"),
    /*  65 */
    h(
        "bpf_xdp_adjust_tail",
        p(&[Ctx, Anything], Integer, XDP).moves_packet(),
    ),
    /*  66 */ u("bpf_skb_get_xfrm_state"),
    /*  67 */
    h(
        "bpf_get_stack",
        p(&[Ctx, UninitMem, SizeOrZero, Anything], Integer, TRACING).gpl(),
    ),
    /*  68 */
    h(
        "bpf_skb_load_bytes_relative",
        p(&[Ctx, Anything, UninitMem, Size, Anything], Integer, SKB),
    ),
    /*  69 */
    h(
        "bpf_fib_lookup",
        p(&[Ctx, MemRw, Size, Anything], Integer, TC_XDP).gpl(),
    ),
    /*  70 */ u("bpf_sock_hash_update"),
    /*  71 */ u("bpf_msg_redirect_hash"),
    /*  72 */ u("bpf_sk_redirect_hash"),
    /*  73 */ u("bpf_lwt_push_encap"),
    /*  74 */ u("bpf_lwt_seg6_store_bytes"),
    /*  75 */ u("bpf_lwt_seg6_adjust_srh"),
    /*  76 */ u("bpf_lwt_seg6_action"),
    /*  77 */ u("bpf_rc_repeat"),
    /*  78 */ u("bpf_rc_keydown"),
    /*  79 */ h("bpf_skb_cgroup_id", p(&[Ctx], Integer, TC)),
    /*  80 */ h("bpf_get_current_cgroup_id", p(&[], Integer, TASK)),
    /*  81 */ u("bpf_get_local_storage"),
    /*  82 */ u("bpf_sk_select_reuseport"),
    /*  83 */
    h(
        "bpf_skb_ancestor_cgroup_id",
        p(&[Ctx, Anything], Integer, TC),
    ),
    /*  84 */ u("bpf_sk_lookup_tcp"),
    /*  85 */ u("bpf_sk_lookup_udp"),
    /*  86 */ u("bpf_sk_release"),
    /*  87 */
    h(
        "bpf_map_push_elem",
        p(&[MapPtr, MapValue, Anything], Integer, BASE).maps(&[QUEUE, STACK, BLOOM_FILTER]),
    ),
    /*  88 */
    h(
        "bpf_map_pop_elem",
        p(&[MapPtr, UninitMapValue], Integer, BASE).maps(&[QUEUE, STACK]),
    ),
    /*  89 */
    h(
        "bpf_map_peek_elem",
        p(&[MapPtr, UninitMapValue], Integer, BASE).maps(&[QUEUE, STACK, BLOOM_FILTER]),
    ),
    /*  90 */ u("bpf_msg_push_data"),
    /*  91 */ u("bpf_msg_pop_data"),
    /*  92 */ u("bpf_rc_pointer_rel"),
    /*  93 */ h("bpf_spin_lock", p(&[SpinLock], Void, BASE).needs(CapBpf)),
    /*  94 */ h("bpf_spin_unlock", p(&[SpinLock], Void, BASE).needs(CapBpf)),
    /*  95 */ u("bpf_sk_fullsock"),
    /*  96 */ u("bpf_tcp_sock"),
    /*  97 */ u("bpf_skb_ecn_set_ce"),
    /*  98 */ u("bpf_get_listener_sock"),
    /*  99 */ u("bpf_skc_lookup_tcp"),
    /* 100 */ u("bpf_tcp_check_syncookie"),
    /* 101 */ u("bpf_sysctl_get_name"),
    /* 102 */ u("bpf_sysctl_get_current_value"),
    /* 103 */ u("bpf_sysctl_get_new_value"),
    /* 104 */ u("bpf_sysctl_set_new_value"),
    /* 105 */ u("bpf_strtol"),
    /* 106 */ u("bpf_strtoul"),
    /* 107 */ u("bpf_sk_storage_get"),
    /* 108 */ u("bpf_sk_storage_delete"),
    /* 109 */ h("bpf_send_signal", p(&[Anything], Integer, TRACING)),
    /* 110 */ u("bpf_tcp_gen_syncookie"),
    /* 111 */ u("bpf_skb_output"),
    /* 112 */
    h(
        "bpf_probe_read_user",
        p(&[UninitMem, SizeOrZero, Anything], Integer, BASE)
            .needs(Perfmon)
            .gpl(),
    ),
    /* 113 */
    h(
        "bpf_probe_read_kernel",
        p(&[UninitMem, SizeOrZero, Anything], Integer, BASE)
            .needs(Perfmon)
            .gpl(),
    ),
    /* 114 */
    h(
        "bpf_probe_read_user_str",
        p(&[UninitMem, SizeOrZero, Anything], Integer, BASE)
            .needs(Perfmon)
            .gpl(),
    ),
    /* 115 */
    h(
        "bpf_probe_read_kernel_str",
        p(&[UninitMem, SizeOrZero, Anything], Integer, BASE)
            .needs(Perfmon)
            .gpl(),
    ),
    /* 116 */ u("bpf_tcp_send_ack"),
    /* 117 */ u("bpf_send_signal_thread"),
    /* 118 */ h("bpf_jiffies64", p(&[], Integer, BASE).needs(CapBpf)),
    /* 119 */ u("bpf_read_branch_records"),
    /* 120 */
    h(
        "bpf_get_ns_current_pid_tgid",
        p(&[Anything, Anything, UninitMem, Size], Integer, TRACING),
    ),
    /* 121 */ u("bpf_xdp_output"),
    /* 122 */ u("bpf_get_netns_cookie"),
    /* 123 */ u("bpf_get_current_ancestor_cgroup_id"),
    /* 124 */ u("bpf_sk_assign"),
    /* 125 */ h("bpf_ktime_get_boot_ns", p(&[], Integer, BASE)),
    /* 126 */ u("bpf_seq_printf"),
    /* 127 */ u("bpf_seq_write"),
    /* 128 */ u("bpf_sk_cgroup_id"),
    /* 129 */ u("bpf_sk_ancestor_cgroup_id"),
    /* 130 */
    h(
        "bpf_ringbuf_output",
        p(&[MapPtr, Mem, SizeOrZero, Anything], Integer, BASE).maps(&[RINGBUF]),
    ),
    /* 131 */
    h(
        "bpf_ringbuf_reserve",
        p(&[MapPtr, AllocSize, Anything], AllocOrNull, BASE).maps(&[RINGBUF]),
    ),
    /* 132 */
    h(
        "bpf_ringbuf_submit",
        p(&[ReleaseAlloc, Anything], Void, BASE),
    ),
    /* 133 */
    h(
        "bpf_ringbuf_discard",
        p(&[ReleaseAlloc, Anything], Void, BASE),
    ),
    /* 134 */
    h(
        "bpf_ringbuf_query",
        p(&[MapPtr, Anything], Integer, BASE).maps(&[RINGBUF]),
    ),
    /* 135 */ h("bpf_csum_level", p(&[Ctx, Anything], Integer, TC)),
    /* 136 */ u("bpf_skc_to_tcp6_sock"),
    /* 137 */ u("bpf_skc_to_tcp_sock"),
    /* 138 */ u("bpf_skc_to_tcp_timewait_sock"),
    /* 139 */ u("bpf_skc_to_tcp_request_sock"),
    /* 140 */ u("bpf_skc_to_udp6_sock"),
    /* 141 */ u("bpf_get_task_stack"),
    /* 142 */ u("bpf_load_hdr_opt"),
    /* 143 */ u("bpf_store_hdr_opt"),
    /* 144 */ u("bpf_reserve_hdr_opt"),
    /* 145 */ u("bpf_inode_storage_get"),
    /* 146 */ u("bpf_inode_storage_delete"),
    /* 147 */ u("bpf_d_path"),
    /* 148 */ u("bpf_copy_from_user"),
    /* 149 */ u("bpf_snprintf_btf"),
    /* 150 */ u("bpf_seq_printf_btf"),
    /* 151 */ u("bpf_skb_cgroup_classid"),
    /* 152 */ u("bpf_redirect_neigh"),
    /* 153 */ u("bpf_per_cpu_ptr"),
    /* 154 */ u("bpf_this_cpu_ptr"),
    /* 155 */ u("bpf_redirect_peer"),
    /* 156 */ u("bpf_task_storage_get"),
    /* 157 */ u("bpf_task_storage_delete"),
    /* 158 */ u("bpf_get_current_task_btf"),
    /* 159 */ u("bpf_bprm_opts_set"),
    /* 160 */ h("bpf_ktime_get_coarse_ns", p(&[], Integer, BASE)),
    /* 161 */ u("bpf_ima_inode_hash"),
    /* 162 */ u("bpf_sock_from_file"),
    /* 163 */ u("bpf_check_mtu"),
    /* 164 */
    h(
        "bpf_for_each_map_elem",
        p(&[MapPtr, Func, StackOrNull, Anything], Integer, BASE)
            .maps(&[
                HASH,
                ARRAY,
                PERCPU_HASH,
                PERCPU_ARRAY,
                LRU_HASH,
                LRU_PERCPU_HASH,
            ])
            .callback(FOR_EACH),
    ),
    /* 165 */
    h(
        "bpf_snprintf",
        p(
            &[MemRwOrNull, SizeOrZero, ConstStr, MemOrNull, SizeOrZero],
            Integer,
            BASE,
        )
        .needs(Perfmon),
    ),
    /* 166 */ u("bpf_sys_bpf"),
    /* 167 */ u("bpf_btf_find_by_name_kind"),
    /* 168 */ u("bpf_sys_close"),
    /* 169 */
    h(
        "bpf_timer_init",
        p(&[Timer, MapPtr, Anything], Integer, BASE).needs(CapBpf),
    ),
    /* 170 */
    h(
        "bpf_timer_set_callback",
        p(&[Timer, Func], Integer, BASE)
            .needs(CapBpf)
            .callback(TIMER),
    ),
    /* 171 */
    h(
        "bpf_timer_start",
        p(&[Timer, Anything, Anything], Integer, BASE).needs(CapBpf),
    ),
    /* 172 */ h("bpf_timer_cancel", p(&[Timer], Integer, BASE).needs(CapBpf)),
    /* 173 */ h("bpf_get_func_ip", p(&[Ctx], Integer, TRACING)),
    /* 174 */ h("bpf_get_attach_cookie", p(&[Ctx], Integer, TRACING)),
    /* 175 */ u("bpf_task_pt_regs"),
    /* 176 */ u("bpf_get_branch_snapshot"),
    /* 177 */
    h(
        "bpf_trace_vprintk",
        p(&[Mem, Size, MemOrNull, SizeOrZero], Integer, BASE)
            .needs(Perfmon)
            .gpl(),
    ),
    /* 178 */ u("bpf_skc_to_unix_sock"),
    /* 179 */ u("bpf_kallsyms_lookup_name"),
    /* 180 */ u("bpf_find_vma"),
    /* 181 */
    h(
        "bpf_loop",
        p(&[Anything, Func, StackOrNull, Anything], Integer, BASE).callback(LOOP),
    ),
    /* 182 */ h("bpf_strncmp", p(&[Mem, Size, ConstStr], Integer, BASE)),
    /* 183 */
    h(
        "bpf_get_func_arg",
        p(&[Ctx, Anything, Long], Integer, FENTRY),
    ),
    /* 184 */ h("bpf_get_func_ret", p(&[Ctx, Long], Integer, FENTRY)),
    /* 185 */ h("bpf_get_func_arg_cnt", p(&[Ctx], Integer, FENTRY)),
    /* 186 */ u("bpf_get_retval"),
    /* 187 */ u("bpf_set_retval"),
    /* 188 */ h("bpf_xdp_get_buff_len", p(&[Ctx], Integer, XDP)),
    /* 189 */
    h(
        "bpf_xdp_load_bytes",
        p(&[Ctx, Anything, UninitMem, Size], Integer, XDP),
    ),
    /* 190 */
    h(
        "bpf_xdp_store_bytes",
        p(&[Ctx, Anything, Mem, Size], Integer, XDP),
    ),
    /* 191 */ u("bpf_copy_from_user_task"),
    /* 192 */ u("bpf_skb_set_tstamp"),
    /* 193 */ u("bpf_ima_file_hash"),
    /* 194 */ u("bpf_kptr_xchg"),
    /* 195 */
    h(
        "bpf_map_lookup_percpu_elem",
        p(&[MapPtr, MapKey, Anything], MapValueOrNull, BASE).maps(&[
            PERCPU_ARRAY,
            PERCPU_HASH,
            LRU_PERCPU_HASH,
        ]),
    ),
    /* 196 */ u("bpf_skc_to_mptcp_sock"),
    /* 197 */ u("bpf_dynptr_from_mem"),
    /* 198 */ u("bpf_ringbuf_reserve_dynptr"),
    /* 199 */ u("bpf_ringbuf_submit_dynptr"),
    /* 200 */ u("bpf_ringbuf_discard_dynptr"),
    /* 201 */ u("bpf_dynptr_read"),
    /* 202 */ u("bpf_dynptr_write"),
    /* 203 */ u("bpf_dynptr_data"),
    /* 204 */ u("bpf_tcp_raw_gen_syncookie_ipv4"),
    /* 205 */ u("bpf_tcp_raw_gen_syncookie_ipv6"),
    /* 206 */ u("bpf_tcp_raw_check_syncookie_ipv4"),
    /* 207 */ u("bpf_tcp_raw_check_syncookie_ipv6"),
    /* 208 */ h("bpf_ktime_get_tai_ns", p(&[], Integer, BASE)),
    /* 209 */ u("bpf_user_ringbuf_drain"),
    /* 210 */ u("bpf_cgrp_storage_get"),
    /* 211 */ u("bpf_cgrp_storage_delete"),
];

/// The largest kernel helper id.
pub const MAX_KERNEL_HELPER_ID: u32 = 211;

/// Helper `id`, if the kernel defines it.
pub fn helper(id: u32) -> Option<Helper> {
    let (name, proto) = *HELPERS.get((id as usize).checked_sub(1)?)?;
    Some(Helper { id, name, proto })
}

/// The prototype of helper `id`, if modelled.
pub fn prototype(id: u32) -> Option<&'static HelperProto> {
    HELPERS.get((id as usize).checked_sub(1)?)?.1.as_ref()
}

/// The kernel's name of helper `id` (`bpf_map_lookup_elem` for 1), if the
/// kernel defines one.
pub fn kernel_helper_name(id: i32) -> Option<&'static str> {
    let index = usize::try_from(id).ok()?.checked_sub(1)?;
    HELPERS.get(index).map(|(name, _)| *name)
}

/// The id of a kernel helper by its name, with or without the `bpf_` prefix.
pub fn kernel_helper_id(name: &str) -> Option<u32> {
    let short = name.strip_prefix("bpf_").unwrap_or(name);
    HELPERS
        .iter()
        .position(|(n, _)| n.strip_prefix("bpf_") == Some(short))
        .map(|i| i as u32 + 1)
}

/// How messages and disassembly name helper `id`: `bpf_map_lookup_elem#1`,
/// or `kernel helper #999` for an id the kernel does not define.
pub fn describe_kernel_helper(id: i32) -> String {
    match kernel_helper_name(id) {
        Some(name) => format!("{name}#{id}"),
        None => format!("kernel helper #{id}"),
    }
}

/// Every modelled helper.
pub fn modelled() -> impl Iterator<Item = Helper> {
    (1..=MAX_KERNEL_HELPER_ID)
        .filter_map(helper)
        .filter(|h| h.proto.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_match_the_kernel_enum() {
        // Spot checks against include/uapi/linux/bpf.h.
        assert_eq!(kernel_helper_name(1), Some("bpf_map_lookup_elem"));
        assert_eq!(kernel_helper_name(6), Some("bpf_trace_printk"));
        assert_eq!(kernel_helper_name(7), Some("bpf_get_prandom_u32"));
        assert_eq!(kernel_helper_name(12), Some("bpf_tail_call"));
        assert_eq!(kernel_helper_name(25), Some("bpf_perf_event_output"));
        assert_eq!(kernel_helper_name(44), Some("bpf_xdp_adjust_head"));
        assert_eq!(kernel_helper_name(113), Some("bpf_probe_read_kernel"));
        assert_eq!(kernel_helper_name(130), Some("bpf_ringbuf_output"));
        assert_eq!(kernel_helper_name(164), Some("bpf_for_each_map_elem"));
        assert_eq!(kernel_helper_name(181), Some("bpf_loop"));
        assert_eq!(kernel_helper_name(209), Some("bpf_user_ringbuf_drain"));
        assert_eq!(kernel_helper_name(211), Some("bpf_cgrp_storage_delete"));
    }

    #[test]
    fn unknown_ids_have_no_name() {
        for id in [0, -1, 212, i32::MAX, i32::MIN] {
            assert_eq!(kernel_helper_name(id), None);
        }
        assert_eq!(helper(0), None);
        assert_eq!(describe_kernel_helper(1), "bpf_map_lookup_elem#1");
        assert_eq!(describe_kernel_helper(999), "kernel helper #999");
    }

    #[test]
    fn names_map_back_to_ids() {
        for id in 1..=MAX_KERNEL_HELPER_ID as i32 {
            let name = kernel_helper_name(id).unwrap();
            assert_eq!(kernel_helper_id(name), Some(id as u32));
        }
        assert_eq!(kernel_helper_id("ktime_get_ns"), Some(5));
        assert_eq!(kernel_helper_id("printf"), None);
    }

    #[test]
    fn prototypes_are_consistent() {
        for h in modelled() {
            let p = h.proto.unwrap();
            for (i, a) in p.args.iter().enumerate() {
                // A memory argument is followed by its size.
                if matches!(a, Mem | MemOrNull | MemRw | MemRwOrNull | UninitMem) {
                    assert!(
                        matches!(p.args.get(i + 1), Some(Size | SizeOrZero)),
                        "{}: argument {} has no size after it",
                        h.name,
                        i + 1
                    );
                }
                if matches!(a, MapKey | MapValue | UninitMapValue) {
                    assert_eq!(p.args[0], MapPtr, "{}: a map argument comes first", h.name);
                }
            }
            assert_eq!(
                p.args.contains(&Func),
                p.callback.is_some(),
                "{}: callbacks",
                h.name
            );
        }
        let lookup = prototype(1).unwrap();
        assert_eq!(lookup.args[..2], [MapPtr, MapKey]);
        assert_eq!(lookup.ret, MapValueOrNull);
        // bpf_trace_printk checks two arguments only: the rest may be unset.
        assert_eq!(prototype(6).unwrap().args[2], Arg::None);
        assert!(prototype(44).unwrap().changes_packet);
        assert_eq!(prototype(181).unwrap().callback, Some(LOOP));
    }
}
