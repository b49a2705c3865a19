//! Kernel-style programs in a REPL session run over a pcap capture:
//! per-verdict counts, the maps they leave, and `%undo` of the whole run.

use bpf_repl::engine::{Repl, ReplOptions};
use bpf_repl::replay;

/// A classic pcap file (microsecond timestamps, Ethernet) of these frames.
fn pcap(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend(0xa1b2_c3d4u32.to_le_bytes());
    out.extend(2u16.to_le_bytes());
    out.extend(4u16.to_le_bytes());
    out.extend([0u8; 8]);
    out.extend(65535u32.to_le_bytes());
    out.extend(1u32.to_le_bytes());
    for (i, f) in frames.iter().enumerate() {
        out.extend((i as u32).to_le_bytes());
        out.extend(0u32.to_le_bytes());
        out.extend((f.len() as u32).to_le_bytes());
        out.extend((f.len() as u32).to_le_bytes());
        out.extend(f);
    }
    out
}

/// An Ethernet + IPv4 frame with this protocol number (or ARP for `None`).
fn frame(proto: Option<u8>) -> Vec<u8> {
    let mut f = vec![
        0, 0x11, 0x22, 0x33, 0x44, 0x55, 0, 0x66, 0x77, 0x88, 0x99, 0xaa,
    ];
    match proto {
        Some(p) => {
            f.extend([0x08, 0x00, 0x45, 0, 0, 20, 0, 0, 0, 0, 64, p, 0, 0]);
            f.extend([127, 0, 0, 1, 127, 0, 0, 1]);
        }
        None => f.extend([0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, 1]),
    }
    f
}

const PROGRAM: &str = r#"
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 256);
    __type(key, __u32);
    __type(value, __u64);
} by_proto SEC(".maps");
SEC("xdp")
int count_proto(struct xdp_md *ctx) {
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    if (data + 34 > end)
        return XDP_DROP;
    __u8 *eth = data;
    if (eth[12] != 0x08 || eth[13] != 0x00)
        return XDP_DROP;
    __u32 proto = eth[23];
    __u64 *n = bpf_map_lookup_elem(&by_proto, &proto);
    if (n)
        __sync_fetch_and_add(n, 1);
    return XDP_PASS;
}
"#;

fn run(repl: &mut Repl, text: &str) -> (String, String) {
    let (out, _) = replay::replay(repl, text, "t.c");
    // `replay` returns the transcript: expectations follow each input.
    let stdout = out
        .lines()
        .filter_map(|l| l.strip_prefix("//> "))
        .collect::<Vec<_>>()
        .join("\n");
    let stderr = out
        .lines()
        .filter_map(|l| l.strip_prefix("//! "))
        .collect::<Vec<_>>()
        .join("\n");
    (stdout, stderr)
}

#[test]
fn a_capture_is_counted_by_verdict_and_protocol_and_undone_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mixed.pcap");
    let frames = [Some(17), Some(6), Some(17), None, Some(1), Some(17)];
    let frames: Vec<Vec<u8>> = frames.iter().map(|p| frame(*p)).collect();
    std::fs::write(&path, pcap(&frames)).unwrap();

    let mut repl = Repl::new(&ReplOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let (_, err) = run(&mut repl, PROGRAM);
    assert_eq!(err, "", "the program should be accepted");
    let (out, err) = run(
        &mut repl,
        &format!("%run-prog count_proto --pcap {}\n", path.display()),
    );
    assert_eq!(err, "");
    assert!(out.contains("6 packets"), "{out}");
    assert!(out.contains("XDP_PASS             5"), "{out}");
    assert!(out.contains("XDP_DROP             1"), "{out}");
    let (out, _) = run(&mut repl, "%map by_proto\n");
    for (proto, n) in [(1, 1), (6, 1), (17, 3)] {
        assert!(out.contains(&format!("  {proto} => {n}")), "{out}");
    }
    let (out, _) = run(&mut repl, "%undo\n%map by_proto\n");
    assert!(out.contains("undid"), "{out}");
    assert!(
        !out.contains("=>"),
        "the run's counts should be gone:\n{out}"
    );
}

#[test]
fn bad_captures_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.pcap");
    std::fs::write(&junk, b"not a capture at all").unwrap();
    let mut repl = Repl::new(&ReplOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    run(&mut repl, PROGRAM);
    let (out, err) = run(
        &mut repl,
        &format!("%run-prog count_proto --pcap {}\n", junk.display()),
    );
    assert_eq!(out, "");
    assert!(
        err.starts_with("%run-prog: ") && err.contains("junk.pcap"),
        "{err}"
    );
    let missing = dir.path().join("missing.pcap");
    let (_, err) = run(
        &mut repl,
        &format!("%run-prog count_proto --pcap {}\n", missing.display()),
    );
    assert!(err.contains("missing.pcap"), "{err}");
    // A device is refused, not read without end.
    let (_, err) = run(&mut repl, "%run-prog count_proto --pcap /dev/zero\n");
    assert!(err.contains("/dev/zero"), "{err}");
}
