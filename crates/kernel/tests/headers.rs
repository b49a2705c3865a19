//! The shipped kernel-style headers compile together with clang, and their
//! layouts are the kernel's uapi layouts (checked with _Static_assert).

use std::process::Command;

fn clang() -> String {
    let clang = std::env::var("BPF_REPL_CLANG").unwrap_or_else(|_| "clang-19".to_string());
    let found = Command::new(&clang)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "{clang} not found: install it with `apt-get update && apt-get install -y clang-19 llvm-19` \
         (or set BPF_REPL_CLANG)"
    );
    clang
}

const PROGRAM: &str = r#"
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/icmp.h>
#include <linux/pkt_cls.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#define OFF(t, f, n) _Static_assert(__builtin_offsetof(t, f) == n, #t "." #f)
OFF(struct __sk_buff, mark, 8);
OFF(struct __sk_buff, cb, 48);
OFF(struct __sk_buff, data, 76);
OFF(struct __sk_buff, data_end, 80);
OFF(struct __sk_buff, data_meta, 140);
OFF(struct __sk_buff, tstamp, 152);
OFF(struct __sk_buff, hwtstamp, 184);
_Static_assert(sizeof(struct __sk_buff) == 192, "__sk_buff size");
_Static_assert(sizeof(struct xdp_md) == 24, "xdp_md size");
_Static_assert(sizeof(struct ethhdr) == 14, "ethhdr");
_Static_assert(sizeof(struct iphdr) == 20, "iphdr");
_Static_assert(sizeof(struct ipv6hdr) == 40, "ipv6hdr");
_Static_assert(sizeof(struct tcphdr) == 20, "tcphdr");
_Static_assert(sizeof(struct udphdr) == 8, "udphdr");
_Static_assert(sizeof(struct pt_regs) == 21 * 8, "pt_regs");
OFF(struct pt_regs, rdi, 14 * 8);
_Static_assert(BPF_MAP_TYPE_RINGBUF == 27, "map type ids");
_Static_assert(BPF_MAP_TYPE_LRU_HASH == 9, "map type ids");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 8);
} m SEC(".maps");

SEC("kprobe/x")
int BPF_KPROBE(k, int a, long b)
{
	__u32 key = a;
	bpf_printk("%d %ld", a, b);
	bpf_printk("%d %d %d %d", 1, 2, 3, 4);
	return bpf_map_lookup_elem(&m, &key) != 0 && bpf_ntohs(b) == bpf_htons(1);
}
char _license[] SEC("license") = "GPL";
"#;

#[test]
fn the_headers_compile_and_match_uapi_layouts() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("all.c");
    std::fs::write(&src, PROGRAM).unwrap();
    let out = Command::new(clang())
        .args([
            "-target",
            "bpf",
            "-O2",
            "-g",
            "-Wall",
            "-Werror",
            "-nostdinc",
            "-isystem",
        ])
        .arg(bpf_kernel::include_dir())
        .arg("-c")
        .arg(&src)
        .arg("-o")
        .arg(dir.path().join("all.o"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn every_implemented_helper_is_declared_with_its_id() {
    let defs =
        std::fs::read_to_string(bpf_kernel::include_dir().join("bpf/bpf_helper_defs.h")).unwrap();
    for (id, name) in bpf_kernel::implemented_helpers() {
        let decl = defs
            .lines()
            .find(|l| l.contains(&format!("(* const {name})")))
            .unwrap_or_else(|| panic!("{name} is not declared"));
        assert!(decl.ends_with(&format!("= (void *) {id};")), "{decl}");
    }
    // And every declared id is the kernel's id for that name.
    for line in defs.lines().filter(|l| l.contains("(* const bpf_")) {
        let name = line
            .split("(* const ")
            .nth(1)
            .unwrap()
            .split(')')
            .next()
            .unwrap();
        let id: u32 = line
            .rsplit("(void *) ")
            .next()
            .unwrap()
            .trim_end_matches(';')
            .parse()
            .unwrap();
        assert_eq!(
            bpf_vm::kernel_helpers::kernel_helper_id(name),
            Some(id),
            "{line}"
        );
    }
}
