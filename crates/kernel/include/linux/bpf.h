/* The kernel's BPF uapi as programs see it, written for bpf-repl: map and
 * program constants, XDP and socket-buffer contexts. Layouts match the
 * kernel's include/uapi/linux/bpf.h. */
#ifndef _UAPI__LINUX_BPF_H__
#define _UAPI__LINUX_BPF_H__

#include <linux/types.h>

enum bpf_map_type {
	BPF_MAP_TYPE_UNSPEC,
	BPF_MAP_TYPE_HASH,
	BPF_MAP_TYPE_ARRAY,
	BPF_MAP_TYPE_PROG_ARRAY,
	BPF_MAP_TYPE_PERF_EVENT_ARRAY,
	BPF_MAP_TYPE_PERCPU_HASH,
	BPF_MAP_TYPE_PERCPU_ARRAY,
	BPF_MAP_TYPE_STACK_TRACE,
	BPF_MAP_TYPE_CGROUP_ARRAY,
	BPF_MAP_TYPE_LRU_HASH,
	BPF_MAP_TYPE_LRU_PERCPU_HASH,
	BPF_MAP_TYPE_LPM_TRIE,
	BPF_MAP_TYPE_ARRAY_OF_MAPS,
	BPF_MAP_TYPE_HASH_OF_MAPS,
	BPF_MAP_TYPE_DEVMAP,
	BPF_MAP_TYPE_SOCKMAP,
	BPF_MAP_TYPE_CPUMAP,
	BPF_MAP_TYPE_XSKMAP,
	BPF_MAP_TYPE_SOCKHASH,
	BPF_MAP_TYPE_CGROUP_STORAGE,
	BPF_MAP_TYPE_REUSEPORT_SOCKARRAY,
	BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE,
	BPF_MAP_TYPE_QUEUE,
	BPF_MAP_TYPE_STACK,
	BPF_MAP_TYPE_SK_STORAGE,
	BPF_MAP_TYPE_DEVMAP_HASH,
	BPF_MAP_TYPE_STRUCT_OPS,
	BPF_MAP_TYPE_RINGBUF,
	BPF_MAP_TYPE_INODE_STORAGE,
	BPF_MAP_TYPE_TASK_STORAGE,
	BPF_MAP_TYPE_BLOOM_FILTER,
	BPF_MAP_TYPE_USER_RINGBUF,
	BPF_MAP_TYPE_CGRP_STORAGE,
};

/* bpf_map_update_elem flags */
#define BPF_ANY		0
#define BPF_NOEXIST	1
#define BPF_EXIST	2
#define BPF_F_LOCK	4

/* map_flags */
enum {
	BPF_F_NO_PREALLOC	= (1U << 0),
	BPF_F_NO_COMMON_LRU	= (1U << 1),
	BPF_F_NUMA_NODE		= (1U << 2),
	BPF_F_RDONLY		= (1U << 3),
	BPF_F_WRONLY		= (1U << 4),
	BPF_F_STACK_BUILD_ID	= (1U << 5),
	BPF_F_ZERO_SEED		= (1U << 6),
	BPF_F_RDONLY_PROG	= (1U << 7),
	BPF_F_WRONLY_PROG	= (1U << 8),
	BPF_F_CLONE		= (1U << 9),
	BPF_F_MMAPABLE		= (1U << 10),
};

/* bpf_perf_event_output and friends */
#define BPF_F_INDEX_MASK	0xffffffffULL
#define BPF_F_CURRENT_CPU	BPF_F_INDEX_MASK
#define BPF_F_CTXLEN_MASK	(0xfffffULL << 32)

/* bpf_redirect, bpf_redirect_map */
#define BPF_F_INGRESS		(1ULL << 0)
#define BPF_F_BROADCAST		(1ULL << 3)
#define BPF_F_EXCLUDE_INGRESS	(1ULL << 4)

/* bpf_ringbuf_* flags and bpf_ringbuf_query */
enum {
	BPF_RB_NO_WAKEUP	= (1ULL << 0),
	BPF_RB_FORCE_WAKEUP	= (1ULL << 1),
};
enum {
	BPF_RB_AVAIL_DATA = 0,
	BPF_RB_RING_SIZE = 1,
	BPF_RB_CONS_POS = 2,
	BPF_RB_PROD_POS = 3,
};

/* bpf_skb_store_bytes and checksum helpers */
#define BPF_F_RECOMPUTE_CSUM	(1ULL << 0)
#define BPF_F_INVALIDATE_HASH	(1ULL << 1)
#define BPF_F_HDR_FIELD_MASK	0xfULL
#define BPF_F_PSEUDO_HDR	(1ULL << 4)
#define BPF_F_MARK_MANGLED_0	(1ULL << 5)

#define __bpf_md_ptr(type, name)	\
union {					\
	type name;			\
	__u64 :64;			\
} __attribute__((aligned(8)))

enum xdp_action {
	XDP_ABORTED = 0,
	XDP_DROP,
	XDP_PASS,
	XDP_TX,
	XDP_REDIRECT,
};

struct xdp_md {
	__u32 data;
	__u32 data_end;
	__u32 data_meta;
	__u32 ingress_ifindex;
	__u32 rx_queue_index;
	__u32 egress_ifindex;
};

struct bpf_flow_keys;
struct bpf_sock;

struct __sk_buff {
	__u32 len;
	__u32 pkt_type;
	__u32 mark;
	__u32 queue_mapping;
	__u32 protocol;
	__u32 vlan_present;
	__u32 vlan_tci;
	__u32 vlan_proto;
	__u32 priority;
	__u32 ingress_ifindex;
	__u32 ifindex;
	__u32 tc_index;
	__u32 cb[5];
	__u32 hash;
	__u32 tc_classid;
	__u32 data;
	__u32 data_end;
	__u32 napi_id;
	__u32 family;
	__u32 remote_ip4;
	__u32 local_ip4;
	__u32 remote_ip6[4];
	__u32 local_ip6[4];
	__u32 remote_port;
	__u32 local_port;
	__u32 data_meta;
	__bpf_md_ptr(struct bpf_flow_keys *, flow_keys);
	__u64 tstamp;
	__u32 wire_len;
	__u32 gso_segs;
	__bpf_md_ptr(struct bpf_sock *, sk);
	__u32 gso_size;
	__u8  tstamp_type;
	__u32 :24;
	__u64 hwtstamp;
};

/* Kernel objects embedded in map values; opaque to programs. */
struct bpf_spin_lock {
	__u32 val;
};

struct bpf_timer {
	__u64 :64;
	__u64 :64;
} __attribute__((aligned(8)));

struct bpf_dynptr {
	__u64 :64;
	__u64 :64;
} __attribute__((aligned(8)));

/* Raw tracepoint context. */
struct bpf_raw_tracepoint_args {
	__u64 args[0];
};

/* The legacy map definition (SEC("maps")) is in <bpf/bpf_helpers.h>. */

#endif
