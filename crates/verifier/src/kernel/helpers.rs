//! Kernel helper prototypes, by helper id (`enum bpf_func_id` of the UAPI
//! header `linux/bpf.h`, Linux 6.1).
//!
//! Each modelled prototype restates the kernel's `struct bpf_func_proto`
//! for that helper (argument and return kinds; sources: `kernel/bpf/
//! helpers.c`, `kernel/bpf/ringbuf.c`, `kernel/trace/bpf_trace.c`,
//! `net/core/filter.c`), together with the program types that may call it
//! (each type's `get_func_proto`). Helpers not listed are known by name
//! only; the analysis says so when a program calls one.

use super::ProgType;

/// What a helper argument must be (`enum bpf_arg_type`, the kinds we model).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arg {
    /// Not used.
    None,
    /// Any initialised value (`ARG_ANYTHING`).
    Anything,
    /// A map (`ARG_CONST_MAP_PTR`).
    MapPtr,
    /// Readable, initialised memory of the map's key size (`ARG_PTR_TO_MAP_KEY`).
    MapKey,
    /// Readable, initialised memory of the map's value size (`ARG_PTR_TO_MAP_VALUE`).
    MapValue,
    /// Writable memory of the map's value size, written by the helper
    /// (`ARG_PTR_TO_UNINIT_MAP_VALUE`).
    UninitMapValue,
    /// Readable, initialised memory; its size is the next argument
    /// (`ARG_PTR_TO_MEM | MEM_RDONLY`).
    Mem,
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
    /// The program's context (`ARG_PTR_TO_CTX`).
    Ctx,
    /// Memory from [`Ret::AllocOrNull`], released by the call
    /// (`ARG_PTR_TO_ALLOC_MEM | OBJ_RELEASE`).
    ReleaseAlloc,
}

/// What a helper returns (`enum bpf_return_type`, the kinds we model).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ret {
    Integer,
    Void,
    /// A value of the map in argument 1, or NULL (`RET_PTR_TO_MAP_VALUE_OR_NULL`).
    MapValueOrNull,
    /// Memory of the size in argument 2, or NULL, which must be released
    /// (`RET_PTR_TO_ALLOC_MEM_OR_NULL`, acquires a reference).
    AllocOrNull,
}

/// Which program types may call a helper.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Avail {
    /// Every type (`bpf_base_func_proto`).
    All,
    /// kprobe and tracepoints (`bpf_tracing_func_proto`).
    Tracing,
    /// Programs on `struct __sk_buff`: socket filters and tc.
    Skb,
    /// tc only.
    Tc,
    /// XDP only.
    Xdp,
    /// tc and XDP.
    TcXdp,
}

impl Avail {
    pub fn allows(self, p: ProgType) -> bool {
        match self {
            Avail::All => true,
            Avail::Tracing => p.is_tracing(),
            Avail::Skb => matches!(
                p,
                ProgType::SocketFilter | ProgType::SchedCls | ProgType::SchedAct
            ),
            Avail::Tc => matches!(p, ProgType::SchedCls | ProgType::SchedAct),
            Avail::Xdp => p == ProgType::Xdp,
            Avail::TcXdp => matches!(p, ProgType::SchedCls | ProgType::SchedAct | ProgType::Xdp),
        }
    }
}

/// One helper's prototype.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HelperProto {
    pub id: u32,
    pub args: [Arg; 5],
    pub ret: Ret,
    pub avail: Avail,
    /// The helper may move or resize the packet: every packet pointer is
    /// invalid after it (`bpf_helper_changes_pkt_data`).
    pub changes_packet: bool,
    /// Map types the map argument must have (`check_map_func_compatibility`);
    /// empty: any map type that is not reserved for other helpers.
    pub map_types: &'static [u32],
}

/// Map types (`enum bpf_map_type`) named in compatibility rules.
pub mod map_type {
    pub const HASH: u32 = 1;
    pub const ARRAY: u32 = 2;
    pub const PROG_ARRAY: u32 = 3;
    pub const PERF_EVENT_ARRAY: u32 = 4;
    pub const DEVMAP: u32 = 14;
    pub const XSKMAP: u32 = 17;
    pub const CPUMAP: u32 = 16;
    pub const QUEUE: u32 = 22;
    pub const STACK: u32 = 23;
    pub const DEVMAP_HASH: u32 = 25;
    pub const RINGBUF: u32 = 27;
    pub const BLOOM_FILTER: u32 = 30;
}

/// Map types only special helpers may take (`check_map_func_compatibility`).
pub const SPECIAL_MAP_TYPES: &[u32] = &[
    map_type::PROG_ARRAY,
    map_type::PERF_EVENT_ARRAY,
    map_type::RINGBUF,
];

const fn proto(id: u32, args: [Arg; 5], ret: Ret, avail: Avail) -> HelperProto {
    HelperProto {
        id,
        args,
        ret,
        avail,
        changes_packet: false,
        map_types: &[],
    }
}

const fn packet_changing(p: HelperProto) -> HelperProto {
    HelperProto {
        changes_packet: true,
        ..p
    }
}

const fn for_maps(p: HelperProto, map_types: &'static [u32]) -> HelperProto {
    HelperProto { map_types, ..p }
}

use Arg::{Anything as Any_, Ctx, Mem, None as No, Size, SizeOrZero, UninitMem};
use Avail::*;

/// The modelled helpers, by id.
static PROTOTYPES: &[HelperProto] = &[
    proto(
        1,
        [Arg::MapPtr, Arg::MapKey, No, No, No],
        Ret::MapValueOrNull,
        All,
    ),
    proto(
        2,
        [Arg::MapPtr, Arg::MapKey, Arg::MapValue, Any_, No],
        Ret::Integer,
        All,
    ),
    proto(3, [Arg::MapPtr, Arg::MapKey, No, No, No], Ret::Integer, All),
    proto(
        4,
        [UninitMem, SizeOrZero, Any_, No, No],
        Ret::Integer,
        Tracing,
    ),
    proto(5, [No; 5], Ret::Integer, All),
    proto(6, [Mem, Size, Any_, Any_, Any_], Ret::Integer, All),
    proto(7, [No; 5], Ret::Integer, All),
    proto(8, [No; 5], Ret::Integer, All),
    packet_changing(proto(9, [Ctx, Any_, Mem, Size, Any_], Ret::Integer, Tc)),
    packet_changing(proto(10, [Ctx, Any_, Any_, Any_, Any_], Ret::Integer, Tc)),
    packet_changing(proto(11, [Ctx, Any_, Any_, Any_, Any_], Ret::Integer, Tc)),
    for_maps(
        proto(12, [Ctx, Arg::MapPtr, Any_, No, No], Ret::Void, All),
        &[map_type::PROG_ARRAY],
    ),
    packet_changing(proto(13, [Ctx, Any_, Any_, No, No], Ret::Integer, Tc)),
    proto(14, [No; 5], Ret::Integer, Tracing),
    proto(15, [No; 5], Ret::Integer, Tracing),
    proto(16, [UninitMem, Size, No, No, No], Ret::Integer, Tracing),
    proto(23, [Any_, Any_, No, No, No], Ret::Integer, TcXdp),
    for_maps(
        proto(
            25,
            [Ctx, Arg::MapPtr, Any_, Mem, SizeOrZero],
            Ret::Integer,
            All,
        ),
        &[map_type::PERF_EVENT_ARRAY],
    ),
    proto(26, [Ctx, Any_, UninitMem, Size, No], Ret::Integer, Skb),
    proto(35, [No; 5], Ret::Integer, Tracing),
    packet_changing(proto(44, [Ctx, Any_, No, No, No], Ret::Integer, Xdp)),
    proto(
        45,
        [UninitMem, SizeOrZero, Any_, No, No],
        Ret::Integer,
        Tracing,
    ),
    for_maps(
        proto(51, [Arg::MapPtr, Any_, Any_, No, No], Ret::Integer, Xdp),
        &[
            map_type::DEVMAP,
            map_type::DEVMAP_HASH,
            map_type::CPUMAP,
            map_type::XSKMAP,
        ],
    ),
    packet_changing(proto(54, [Ctx, Any_, No, No, No], Ret::Integer, Xdp)),
    packet_changing(proto(65, [Ctx, Any_, No, No, No], Ret::Integer, Xdp)),
    for_maps(
        proto(
            87,
            [Arg::MapPtr, Arg::MapValue, Any_, No, No],
            Ret::Integer,
            All,
        ),
        &[map_type::QUEUE, map_type::STACK, map_type::BLOOM_FILTER],
    ),
    for_maps(
        proto(
            88,
            [Arg::MapPtr, Arg::UninitMapValue, No, No, No],
            Ret::Integer,
            All,
        ),
        &[map_type::QUEUE, map_type::STACK],
    ),
    for_maps(
        proto(
            89,
            [Arg::MapPtr, Arg::UninitMapValue, No, No, No],
            Ret::Integer,
            All,
        ),
        &[map_type::QUEUE, map_type::STACK, map_type::BLOOM_FILTER],
    ),
    proto(
        112,
        [UninitMem, SizeOrZero, Any_, No, No],
        Ret::Integer,
        Tracing,
    ),
    proto(
        113,
        [UninitMem, SizeOrZero, Any_, No, No],
        Ret::Integer,
        Tracing,
    ),
    proto(
        114,
        [UninitMem, SizeOrZero, Any_, No, No],
        Ret::Integer,
        Tracing,
    ),
    proto(
        115,
        [UninitMem, SizeOrZero, Any_, No, No],
        Ret::Integer,
        Tracing,
    ),
    proto(118, [No; 5], Ret::Integer, All),
    proto(125, [No; 5], Ret::Integer, All),
    for_maps(
        proto(
            130,
            [Arg::MapPtr, Mem, SizeOrZero, Any_, No],
            Ret::Integer,
            All,
        ),
        &[map_type::RINGBUF],
    ),
    for_maps(
        proto(
            131,
            [Arg::MapPtr, Arg::AllocSize, Any_, No, No],
            Ret::AllocOrNull,
            All,
        ),
        &[map_type::RINGBUF],
    ),
    proto(132, [Arg::ReleaseAlloc, Any_, No, No, No], Ret::Void, All),
    proto(133, [Arg::ReleaseAlloc, Any_, No, No, No], Ret::Void, All),
    proto(160, [No; 5], Ret::Integer, All),
];

/// The prototype of helper `id`, if modelled.
pub fn prototype(id: u32) -> Option<&'static HelperProto> {
    PROTOTYPES.iter().find(|p| p.id == id)
}

/// The name of helper `id` without the `bpf_` prefix, if the kernel has one.
pub fn name(id: u32) -> Option<&'static str> {
    NAMES.get(id as usize).copied().filter(|_| id != 0)
}

/// Every helper name by id (`___BPF_FUNC_MAPPER`, Linux 6.1).
static NAMES: &[&str] = &[
    "unspec",
    "map_lookup_elem",
    "map_update_elem",
    "map_delete_elem",
    "probe_read",
    "ktime_get_ns",
    "trace_printk",
    "get_prandom_u32",
    "get_smp_processor_id",
    "skb_store_bytes",
    "l3_csum_replace",
    "l4_csum_replace",
    "tail_call",
    "clone_redirect",
    "get_current_pid_tgid",
    "get_current_uid_gid",
    "get_current_comm",
    "get_cgroup_classid",
    "skb_vlan_push",
    "skb_vlan_pop",
    "skb_get_tunnel_key",
    "skb_set_tunnel_key",
    "perf_event_read",
    "redirect",
    "get_route_realm",
    "perf_event_output",
    "skb_load_bytes",
    "get_stackid",
    "csum_diff",
    "skb_get_tunnel_opt",
    "skb_set_tunnel_opt",
    "skb_change_proto",
    "skb_change_type",
    "skb_under_cgroup",
    "get_hash_recalc",
    "get_current_task",
    "probe_write_user",
    "current_task_under_cgroup",
    "skb_change_tail",
    "skb_pull_data",
    "csum_update",
    "set_hash_invalid",
    "get_numa_node_id",
    "skb_change_head",
    "xdp_adjust_head",
    "probe_read_str",
    "get_socket_cookie",
    "get_socket_uid",
    "set_hash",
    "setsockopt",
    "skb_adjust_room",
    "redirect_map",
    "sk_redirect_map",
    "sock_map_update",
    "xdp_adjust_meta",
    "perf_event_read_value",
    "perf_prog_read_value",
    "getsockopt",
    "override_return",
    "sock_ops_cb_flags_set",
    "msg_redirect_map",
    "msg_apply_bytes",
    "msg_cork_bytes",
    "msg_pull_data",
    "bind",
    "xdp_adjust_tail",
    "skb_get_xfrm_state",
    "get_stack",
    "skb_load_bytes_relative",
    "fib_lookup",
    "sock_hash_update",
    "msg_redirect_hash",
    "sk_redirect_hash",
    "lwt_push_encap",
    "lwt_seg6_store_bytes",
    "lwt_seg6_adjust_srh",
    "lwt_seg6_action",
    "rc_repeat",
    "rc_keydown",
    "skb_cgroup_id",
    "get_current_cgroup_id",
    "get_local_storage",
    "sk_select_reuseport",
    "skb_ancestor_cgroup_id",
    "sk_lookup_tcp",
    "sk_lookup_udp",
    "sk_release",
    "map_push_elem",
    "map_pop_elem",
    "map_peek_elem",
    "msg_push_data",
    "msg_pop_data",
    "rc_pointer_rel",
    "spin_lock",
    "spin_unlock",
    "sk_fullsock",
    "tcp_sock",
    "skb_ecn_set_ce",
    "get_listener_sock",
    "skc_lookup_tcp",
    "tcp_check_syncookie",
    "sysctl_get_name",
    "sysctl_get_current_value",
    "sysctl_get_new_value",
    "sysctl_set_new_value",
    "strtol",
    "strtoul",
    "sk_storage_get",
    "sk_storage_delete",
    "send_signal",
    "tcp_gen_syncookie",
    "skb_output",
    "probe_read_user",
    "probe_read_kernel",
    "probe_read_user_str",
    "probe_read_kernel_str",
    "tcp_send_ack",
    "send_signal_thread",
    "jiffies64",
    "read_branch_records",
    "get_ns_current_pid_tgid",
    "xdp_output",
    "get_netns_cookie",
    "get_current_ancestor_cgroup_id",
    "sk_assign",
    "ktime_get_boot_ns",
    "seq_printf",
    "seq_write",
    "sk_cgroup_id",
    "sk_ancestor_cgroup_id",
    "ringbuf_output",
    "ringbuf_reserve",
    "ringbuf_submit",
    "ringbuf_discard",
    "ringbuf_query",
    "csum_level",
    "skc_to_tcp6_sock",
    "skc_to_tcp_sock",
    "skc_to_tcp_timewait_sock",
    "skc_to_tcp_request_sock",
    "skc_to_udp6_sock",
    "get_task_stack",
    "load_hdr_opt",
    "store_hdr_opt",
    "reserve_hdr_opt",
    "inode_storage_get",
    "inode_storage_delete",
    "d_path",
    "copy_from_user",
    "snprintf_btf",
    "seq_printf_btf",
    "skb_cgroup_classid",
    "redirect_neigh",
    "per_cpu_ptr",
    "this_cpu_ptr",
    "redirect_peer",
    "task_storage_get",
    "task_storage_delete",
    "get_current_task_btf",
    "bprm_opts_set",
    "ktime_get_coarse_ns",
    "ima_inode_hash",
    "sock_from_file",
    "check_mtu",
    "for_each_map_elem",
    "snprintf",
    "sys_bpf",
    "btf_find_by_name_kind",
    "sys_close",
    "timer_init",
    "timer_set_callback",
    "timer_start",
    "timer_cancel",
    "get_func_ip",
    "get_attach_cookie",
    "task_pt_regs",
    "get_branch_snapshot",
    "trace_vprintk",
    "skc_to_unix_sock",
    "kallsyms_lookup_name",
    "find_vma",
    "loop",
    "strncmp",
    "get_func_arg",
    "get_func_ret",
    "get_func_arg_cnt",
    "get_retval",
    "set_retval",
    "xdp_get_buff_len",
    "xdp_load_bytes",
    "xdp_store_bytes",
    "copy_from_user_task",
    "skb_set_tstamp",
    "ima_file_hash",
    "kptr_xchg",
    "map_lookup_percpu_elem",
    "skc_to_mptcp_sock",
    "dynptr_from_mem",
    "ringbuf_reserve_dynptr",
    "ringbuf_submit_dynptr",
    "ringbuf_discard_dynptr",
    "dynptr_read",
    "dynptr_write",
    "dynptr_data",
    "tcp_raw_gen_syncookie_ipv4",
    "tcp_raw_gen_syncookie_ipv6",
    "tcp_raw_check_syncookie_ipv4",
    "tcp_raw_check_syncookie_ipv6",
    "ktime_get_tai_ns",
    "user_ringbuf_drain",
    "x",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_match_the_uapi_header() {
        assert_eq!(name(1), Some("map_lookup_elem"));
        assert_eq!(name(12), Some("tail_call"));
        assert_eq!(name(131), Some("ringbuf_reserve"));
        assert_eq!(name(0), None);
        assert_eq!(name(10_000), None);
        for p in PROTOTYPES {
            assert!(name(p.id).is_some(), "helper {} has no name", p.id);
        }
    }
}
