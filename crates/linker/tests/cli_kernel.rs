//! `bpf-jitlink --prog` on kernel-style objects, run as a user would.

use std::process::{Command, Output};

fn fixture(name: &str) -> String {
    format!("{}/fixtures/kernel/obj/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn jitlink(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bpf-jitlink"))
        .args(args)
        .output()
        .expect("run bpf-jitlink")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Ethernet + IPv4 + UDP to `dport`.
fn udp(dport: u16) -> Vec<u8> {
    let mut p = vec![0xff; 6];
    p.extend([
        0, 0, 0, 0, 0, 1, 0x08, 0x00, 0x45, 0, 0, 28, 0, 1, 0, 0, 64, 17, 0, 0,
    ]);
    p.extend([10, 0, 0, 1, 10, 0, 0, 2]);
    p.extend(1234u16.to_be_bytes());
    p.extend(dport.to_be_bytes());
    p.extend([0, 8, 0, 0]);
    p
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn one_packet_prints_the_verdict_and_the_maps() {
    let o = jitlink(&[
        &fixture("xdp_count.o"),
        "--prog",
        "xdp",
        "--packet",
        &hex(&udp(9)),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(
        out.starts_with("program count_protocols (section xdp, xdp)\nreturned XDP_DROP (1)\n"),
        "{out}"
    );
    assert!(
        out.contains("map proto_count (array, key 4 B, value 8 B, max 256):\n  17 => 1\n"),
        "{out}"
    );
}

#[test]
fn a_capture_gives_per_verdict_counts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.pcap");
    let mut w = pcap_file::pcap::PcapWriter::new(std::fs::File::create(&path).unwrap()).unwrap();
    for (i, port) in [53u16, 9, 53, 9, 9].iter().enumerate() {
        let f = udp(*port);
        let ts = std::time::Duration::from_secs(i as u64);
        w.write_packet(&pcap_file::pcap::PcapPacket::new(ts, f.len() as u32, &f))
            .unwrap();
    }
    drop(w);
    let o = jitlink(&[
        &fixture("xdp_count.o"),
        "--prog",
        "count_protocols",
        "--pcap",
        path.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(
        out.contains("5 packets\n  XDP_DROP             3\n  XDP_PASS             2\n"),
        "{out}"
    );
    assert!(out.contains("  17 => 5\n"), "{out}");
}

#[test]
fn misuse_is_explained() {
    let o = jitlink(&[&fixture("xdp_count.o"), "--prog", "nope", "--packet", "00"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        text(&o.stderr),
        "bpf-jitlink: error: no program named `nope`; programs: count_protocols (section xdp)\n"
    );
    let o = jitlink(&[&fixture("xdp_count.o"), "--prog", "xdp"]);
    assert!(
        text(&o.stderr).contains("xdp programs run on packets: give --packet HEX or --pcap FILE")
    );
    let o = jitlink(&[&fixture("xdp_count.o"), "--prog", "xdp", "--packet", "0011"]);
    assert!(
        text(&o.stderr).contains("at least an Ethernet header"),
        "{}",
        text(&o.stderr)
    );
    let o = jitlink(&[&fixture("events.o"), "--prog", "on_write"]);
    assert!(text(&o.stderr).contains("give --ctx HEX"));
    let o = jitlink(&[&fixture("core.o"), "--noexec"]);
    assert!(text(&o.stderr).contains("needs the kernel's BTF: give it with --btf FILE"));
    let o = jitlink(&[
        &fixture("core.o"),
        "--prog",
        "task_pid",
        "--ctx",
        &"00".repeat(32),
        "--btf",
        &fixture("core_target.o"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("returned 1000 (1000)"));
}

#[test]
fn trace_output_and_records_are_shown_in_order() {
    let o = jitlink(&[
        &fixture("events.o"),
        "--prog",
        "on_write",
        "--ctx",
        "00000000000000002a000000",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "program on_write (section tp/syscalls/sys_enter_write, tracepoint)"
    );
    assert_eq!(lines[1], "write of 42 bytes by pid 4242");
    assert_eq!(lines[2], "returned 0 (0)");
    assert!(
        lines[3].starts_with("RingBuf rb cpu 0: 24 bytes: 921000002a000000"),
        "{out}"
    );
}
