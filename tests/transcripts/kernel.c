// Kernel-style C at the prompt: maps and SEC("xdp") programs with the
// shipped <bpf/bpf_helpers.h>, run on packets with %run-prog, maps shown
// with %maps and %map, program runs undone with %undo, and the Linux
// verifier's verdict with %verify.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 256);
    __type(key, __u8);
    __type(value, __u64);
} by_proto SEC(".maps");
char LICENSE[] SEC("license") = "GPL";
// Counts IPv4 packets by protocol; drops everything else.
SEC("xdp")
int count_proto(struct xdp_md *ctx) {
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    if (data + 34 > end)
        return XDP_DROP;
    __u8 *eth = data;
    if (eth[12] != 0x08 || eth[13] != 0x00)
        return XDP_DROP;
    __u8 proto = eth[14 + 9];
    __u64 one = 1, *n = bpf_map_lookup_elem(&by_proto, &proto);
    if (n)
        __sync_fetch_and_add(n, 1);
    else
        bpf_map_update_elem(&by_proto, &proto, &one, BPF_ANY);
    bpf_printk("protocol %d", proto);
    return XDP_PASS;
}
%maps
//> by_proto                 hash, key 1 B, value 8 B, max 256  at 0x800000000
// An ARP frame, then a UDP packet (protocol 17), then a TCP one (6).
%run-prog count_proto --packet 0011223344550066778899aa 0806 0001080006040001
//> program count_proto (section xdp, xdp)
//> returned XDP_DROP (1)
%run-prog count_proto --packet 0011223344550066778899aa 0800 4500001c000000004011000 07f0000017f000001 0000000000000000
//> program count_proto (section xdp, xdp)
//> protocol 17
//> returned XDP_PASS (2)
%run-prog count_proto --packet 0011223344550066778899aa 0800 45000028000000004006000 07f0000017f000001 0000000000000000
//> program count_proto (section xdp, xdp)
//> protocol 6
//> returned XDP_PASS (2)
%map by_proto
//> map by_proto (hash, key 1 B, value 8 B, max 256):
//>   17 => 1
//>   6 => 1
// %undo takes back a program run like an input: the map is as before it.
%undo
//> undid input 8: %run-prog count_proto --packet 0011223344550066...
%map by_proto
//> map by_proto (hash, key 1 B, value 8 B, max 256):
//>   17 => 1
%verify count_proto
//> program `count_proto` (section xdp, type xdp, 37 instructions): the kernel would accept it [12 of 12 memory accesses in bounds on every path]
// Unchecked map value: the kernel would refuse it, at the line of the read.
SEC("xdp")
int unchecked(struct xdp_md *ctx) {
    __u8 key = 6;
    __u64 *n = bpf_map_lookup_elem(&by_proto, &key);
    return *n;
}
//! note: the Linux verifier would refuse program `unchecked` (it still runs here); %verify unchecked shows why
%verify unchecked
//! program `unchecked` (section xdp, type xdp, 9 instructions): the kernel would REFUSE it (1 error) [2 of 3 memory accesses in bounds on every path]
//! error: r0 may be NULL here: the value of map `by_proto` from bpf_map_lookup_elem is not checked against NULL on every path to this read [possible NULL dereference]
//!   --> kernel.c:64:12 (instruction 46 in `unchecked`)
//!      64 |     return *n;
//!         | r0 = *(u64 *)(r0 + 0x0)
//!   state: r0 = pointer to a value of map `by_proto` (8 bytes) or NULL (not checked yet)
//!   kernel: R0 invalid mem access 'map_value_or_null'
//!   hint: check the pointer first: `if (!p) return ...;`
// A fault in a program is shown with its backtrace; the run changes nothing.
SEC("xdp")
int faults(struct xdp_md *ctx) {
    __u8 key = 17;
    __u64 *n = bpf_map_lookup_elem(&by_proto, &key);
    *n = 100;
    return *(volatile int *)0;
}
//! note: the Linux verifier would refuse program `faults` (it still runs here); %verify faults shows why
%run-prog faults --packet 0011223344550066778899aa 0800
//> program faults (section xdp, xdp)
//! error: invalid memory access: read of 4 bytes at 0x0: NULL or unmapped low address
//!   #0 faults at kernel.c:82:12
//! (the run's changes to maps were rolled back)
%run-prog faults --packet 00
//! %run-prog: an XDP packet needs at least an Ethernet header (14 bytes), not 1
%map by_proto
//> map by_proto (hash, key 1 B, value 8 B, max 256):
//>   17 => 1
// Wrong inputs are named.
%run-prog count_proto --ctx 00
//! %run-prog: xdp programs run on packets (--packet HEX or --pcap FILE), not on context bytes
%run-prog nothing --packet 00
//! %run-prog: no program named `nothing`; programs: count_proto (section xdp), unchecked (section xdp), faults (section xdp)
%run-prog count_proto --packet 0g
//! %run-prog: hex bytes: `g` is not a hex digit
%run-prog count_proto
//! %run-prog: usage: %run-prog NAME --packet HEX | --pcap FILE | --ctx HEX
%map nothing
//! %map: no map named `nothing`; maps: by_proto
// A plain C function is not a program, unless a type is given.
int plain(void *ctx) { return XDP_PASS; }
%verify plain
//! %verify: `plain` is not in a program section: put it in one (SEC("xdp")...) or name the type, e.g. %verify plain --type xdp
%verify plain --type xdp
//> program `plain` (section .text, type xdp, 2 instructions): the kernel would accept it [0 of 0 memory accesses in bounds on every path]
// Ordinary C goes on in the same session.
plain(0)
//> (int) 2
