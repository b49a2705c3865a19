//! Kernel-style objects (clang -target bpf -O2 -g, fixtures/kernel, rebuilt
//! by fixtures/kernel/rebuild.sh) linked into a session with the kernel
//! world and run on packets, captures and context bytes.

use bpf_kernel::{Clock, Input, Kernel, KernelConfig, PcapPacket};
use bpf_linker::{LinkError, Session, SessionOptions};
use bpf_runtime::OutputSink;
use bpf_vm::{RegionKind, Vm};
use std::collections::BTreeMap;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/fixtures/kernel/obj/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}; run fixtures/kernel/rebuild.sh"))
}

fn kernel_session(config: KernelConfig, trace: &OutputSink) -> Session {
    let mut s = Session::new(Vm::default(), SessionOptions::default());
    s.enable_kernel(Kernel::new(config, trace.clone()));
    s
}

fn load(name: &str) -> Session {
    let mut s = kernel_session(KernelConfig::default(), &OutputSink::buffer());
    s.add_object(name, &fixture(name)).unwrap();
    s
}

/// An Ethernet + IPv4 frame with a TCP or UDP header (ports), or ICMP.
fn ipv4(proto: u8, src: [u8; 4], dport: u16, payload: usize) -> Vec<u8> {
    let mut p = vec![0xff; 6];
    p.extend([0, 0, 0, 0, 0, 1, 0x08, 0x00]);
    let l4 = match proto {
        6 => 20,
        17 => 8,
        _ => 8,
    };
    let total = (20 + l4 + payload) as u16;
    p.extend([0x45, 0]);
    p.extend(total.to_be_bytes());
    p.extend([0, 1, 0, 0, 64, proto, 0, 0]);
    p.extend(src);
    p.extend([10, 0, 0, 2]);
    match proto {
        6 => {
            p.extend(1234u16.to_be_bytes());
            p.extend(dport.to_be_bytes());
            p.extend([0; 8]);
            p.extend([0x50, 0x02, 0x20, 0, 0, 0, 0, 0]);
        }
        17 => {
            p.extend(1234u16.to_be_bytes());
            p.extend(dport.to_be_bytes());
            p.extend(((8 + payload) as u16).to_be_bytes());
            p.extend([0, 0]);
        }
        _ => p.extend([8, 0, 0, 0, 0, 1, 0, 1]),
    }
    p.extend(vec![0xab; payload]);
    p
}

fn arp() -> Vec<u8> {
    let mut p = vec![0xff; 6];
    p.extend([0, 0, 0, 0, 0, 1, 0x08, 0x06]);
    p.extend([0; 28]);
    p
}

/// Writes `frames` as a pcap file with pcap-file and reads it back as
/// `bpf-jitlink --pcap` does.
fn capture(frames: &[Vec<u8>]) -> Vec<PcapPacket> {
    use pcap_file::pcap::{PcapPacket as P, PcapWriter};
    let mut w = PcapWriter::new(Vec::new()).unwrap();
    for (i, f) in frames.iter().enumerate() {
        let ts = std::time::Duration::from_millis(1_000 + i as u64);
        w.write_packet(&P::new(ts, f.len() as u32, f)).unwrap();
    }
    let bytes = w.into_writer();
    let packets = bpf_kernel::read_pcap("test.pcap", &bytes).unwrap();
    assert_eq!(packets.len(), frames.len());
    assert_eq!(packets[1].timestamp_ns, 1_001_000_000);
    packets
}

fn global_u64(s: &Session, name: &str) -> u64 {
    let addr = s.lookup(name).unwrap_or_else(|| panic!("{name}")).addr;
    s.vm().mem.load(addr, 8).unwrap()
}

/// A map's elements as (key, value) numbers, from the map dump.
fn map_numbers(s: &Session, map: &str) -> BTreeMap<u64, u64> {
    s.dump_maps(Some(map))
        .unwrap()
        .lines()
        .filter_map(|l| {
            let (k, v) = l.trim().split_once(" => ")?;
            Some((k.parse().ok()?, v.parse().ok()?))
        })
        .collect()
}

#[test]
fn an_xdp_program_counts_a_capture_by_protocol() {
    let mut s = load("xdp_count.o");
    let frames = vec![
        ipv4(6, [10, 0, 0, 1], 80, 10),
        ipv4(6, [10, 0, 0, 1], 443, 0),
        ipv4(6, [10, 0, 0, 3], 22, 5),
        ipv4(17, [10, 0, 0, 3], 53, 4),
        ipv4(17, [10, 0, 0, 1], 9, 0), // discard port: dropped
        ipv4(1, [10, 0, 0, 4], 0, 0),
        arp(),
    ];
    let prog = s.program("xdp").unwrap();
    assert_eq!(prog.name, "count_protocols");
    let report = s.run_program_pcap(&prog, &capture(&frames)).unwrap();
    assert_eq!(report.packets, 7);
    assert_eq!(report.stopped, None);
    let verdicts: Vec<(&str, u64)> = report
        .verdicts
        .iter()
        .map(|(k, v)| (k.as_str(), *v))
        .collect();
    assert_eq!(verdicts, [("XDP_DROP", 1), ("XDP_PASS", 6)]);
    assert_eq!(
        map_numbers(&s, "proto_count"),
        BTreeMap::from([(1, 1), (6, 3), (17, 2)])
    );
    // Bytes by source (the key is the address as the packet holds it).
    let src = |a: [u8; 4]| u32::from_le_bytes(a) as u64;
    let len = |f: &Vec<u8>| f.len() as u64;
    assert_eq!(
        map_numbers(&s, "bytes_by_src"),
        BTreeMap::from([
            (
                src([10, 0, 0, 1]),
                len(&frames[0]) + len(&frames[1]) + len(&frames[4])
            ),
            (src([10, 0, 0, 3]), len(&frames[2]) + len(&frames[3])),
            (src([10, 0, 0, 4]), len(&frames[5])),
        ])
    );
    assert_eq!(global_u64(&s, "non_ip"), 1);
    // Runs release their packets: the kernel-object region is back to the maps.
    let after_load = s.vm().mem.region_len(RegionKind::Kernel);
    s.run_program(
        &prog,
        Input::Packet {
            data: &arp(),
            timestamp_ns: None,
        },
    )
    .unwrap();
    assert_eq!(s.vm().mem.region_len(RegionKind::Kernel), after_load);
    assert_eq!(global_u64(&s, "non_ip"), 2);
}

#[test]
fn a_socket_filter_reads_the_packet_with_legacy_loads() {
    let mut s = load("sockex_ldabs.o");
    let prog = s.program("socket1").unwrap();
    let run = |s: &mut Session, f: &[u8]| {
        let o = s
            .run_program(
                &prog,
                Input::Packet {
                    data: f,
                    timestamp_ns: None,
                },
            )
            .unwrap();
        prog.ty.verdict(o.ret)
    };
    let http = ipv4(6, [1, 2, 3, 4], 80, 0);
    let ssh = ipv4(6, [1, 2, 3, 4], 22, 0);
    let dns = ipv4(17, [1, 2, 3, 4], 53, 3);
    assert_eq!(run(&mut s, &http), "keep whole packet");
    assert_eq!(run(&mut s, &ssh), "drop");
    assert_eq!(run(&mut s, &dns), "drop");
    assert_eq!(run(&mut s, &arp()), "drop");
    // A packet too short for the IP header: LD_ABS past the end returns 0.
    assert_eq!(run(&mut s, &http[..20]), "drop");
    assert_eq!(
        map_numbers(&s, "bytes_by_proto"),
        BTreeMap::from([(6, (http.len() + ssh.len()) as u64), (17, dns.len() as u64)])
    );
}

#[test]
fn tail_calls_go_through_a_program_array_its_definition_fills() {
    let mut s = load("tailcall.o");
    let prog = s.program("dispatch").unwrap();
    let mut verdict = |f: Vec<u8>| {
        let o = s
            .run_program(
                &prog,
                Input::Packet {
                    data: &f,
                    timestamp_ns: None,
                },
            )
            .unwrap();
        prog.ty.verdict(o.ret)
    };
    assert_eq!(verdict(ipv4(6, [1, 1, 1, 1], 80, 0)), "XDP_DROP");
    assert_eq!(verdict(ipv4(17, [1, 1, 1, 1], 53, 0)), "XDP_TX");
    // ICMP: slot 2 is empty, the tail call fails and dispatch goes on.
    assert_eq!(verdict(ipv4(1, [1, 1, 1, 1], 0, 0)), "XDP_PASS");
    assert_eq!(global_u64(&s, "tcp_seen"), 1);
    assert_eq!(global_u64(&s, "udp_seen"), 1);
    assert_eq!(global_u64(&s, "fell_through"), 1);
    // Filling the empty slot from the host makes ICMP go to on_udp too.
    s.set_tail_call("by_proto", 2, "on_udp").unwrap();
    let o = s
        .run_program(
            &prog,
            Input::Packet {
                data: &ipv4(1, [1, 1, 1, 1], 0, 0),
                timestamp_ns: None,
            },
        )
        .unwrap();
    assert_eq!(o.ret, 3);
    assert_eq!(global_u64(&s, "udp_seen"), 2);
    assert!(s
        .set_tail_call("by_proto", 9, "on_udp")
        .unwrap_err()
        .contains("past the end"));
    assert!(s
        .set_tail_call("nope", 0, "on_udp")
        .unwrap_err()
        .contains("no map named `nope`"));
}

#[test]
fn tracing_programs_send_ring_buffer_and_perf_records() {
    let trace = OutputSink::buffer();
    let mut s = kernel_session(KernelConfig::default(), &trace);
    s.add_object("events.o", &fixture("events.o")).unwrap();
    let kernel = s.kernel().unwrap().clone();
    let tp = s.program("on_write").unwrap();
    assert_eq!(tp.ty, bpf_kernel::ProgType::Tracepoint);
    let mut ctx = vec![0u8; 8];
    ctx.extend(42u32.to_le_bytes());
    let o = s.run_program(&tp, Input::Context(&ctx)).unwrap();
    assert_eq!((o.ret, o.unsubmitted), (0, 0));
    let events = kernel.take_events();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].map, "rb");
    let e = &events[0].data;
    assert_eq!(u32::from_le_bytes(e[0..4].try_into().unwrap()), 4242);
    assert_eq!(u32::from_le_bytes(e[4..8].try_into().unwrap()), 42);
    assert_eq!(&e[8..16], b"bpf-repl");
    assert_eq!(events[1].data, 0xfeedfacecafebeefu64.to_le_bytes());
    assert_eq!(trace.take(), b"write of 42 bytes by pid 4242\n");

    // A kprobe reads its arguments from pt_regs (rdi, rsi, rdx).
    let kp = s.program("on_open").unwrap();
    let mut regs = [0u64; 21];
    regs[14] = 7; // rdi
    regs[12] = 0o644; // rdx
    let bytes: Vec<u8> = regs.iter().flat_map(|r| r.to_le_bytes()).collect();
    s.run_program(&kp, Input::Context(&bytes)).unwrap();
    let events = kernel.take_events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, bpf_kernel::EventKind::Perf);
    assert_eq!(&events[0].data[..8], &[7, 0, 0, 0, 0xa4, 1, 0, 0]);
    // Packets are not contexts for tracing programs, nor bytes for XDP.
    let e = s
        .run_program(
            &kp,
            Input::Packet {
                data: &arp(),
                timestamp_ns: None,
            },
        )
        .unwrap_err();
    assert!(e.to_string().contains("context bytes"), "{e}");
}

#[test]
fn callbacks_queues_lru_and_deterministic_time() {
    let config = KernelConfig {
        clock: Clock::Fixed {
            start_ns: 1000,
            step_ns: 5,
        },
        seed: 7,
        ..KernelConfig::default()
    };
    let mut s = kernel_session(config.clone(), &OutputSink::buffer());
    s.add_object("iterate.o", &fixture("iterate.o")).unwrap();
    let it = s.program("iterate").unwrap();
    let o = s.run_program(&it, Input::Context(&[0; 8])).unwrap();
    // 10 loop iterations, equal sums, 10 elements visited, first 1, last 3.
    assert_eq!(o.ret, 10101013);
    let squares: BTreeMap<u64, u64> = (0..10).map(|i| (i, i * i)).collect();
    assert_eq!(map_numbers(&s, "squares"), squares);
    let dump = s.dump_maps(Some("fifo")).unwrap();
    assert!(dump.ends_with("  2\n  3\n"), "{dump}");
    let dump = s.dump_maps(Some("lifo")).unwrap();
    assert!(dump.ends_with("  1\n  2\n"), "{dump}");
    // LRU of two: key 1 was evicted by key 3.
    assert_eq!(map_numbers(&s, "recent"), BTreeMap::from([(2, 2), (3, 3)]));
    assert_eq!(map_numbers(&s, "calls"), BTreeMap::from([(0, 1)]));

    // Time is deterministic on request: the first reading is the start,
    // each one later by the step.
    let clock = s.program("clock").unwrap();
    let o = s.run_program(&clock, Input::Context(&[0; 8])).unwrap();
    assert_eq!(o.ret, 5 * 1_000_000 + 1000);
    let o = s.run_program(&clock, Input::Context(&[0; 8])).unwrap();
    assert_eq!(o.ret, 5 * 1_000_000 + 1010);

    // Random numbers follow the seed.
    let rolls = |seed| {
        let mut s = kernel_session(
            KernelConfig {
                seed,
                ..config.clone()
            },
            &OutputSink::buffer(),
        );
        s.add_object("iterate.o", &fixture("iterate.o")).unwrap();
        let p = s.program("roll").unwrap();
        (0..4)
            .map(|_| s.run_program(&p, Input::Context(&[0; 8])).unwrap().ret)
            .collect::<Vec<_>>()
    };
    assert_eq!(rolls(7), rolls(7));
    assert_ne!(rolls(7), rolls(8));
    let r = rolls(7);
    assert!(r.iter().any(|x| *x != r[0]), "{r:?}");
}

#[test]
fn co_re_is_refused_without_kernel_btf_and_resolved_with_it() {
    let mut s = kernel_session(KernelConfig::default(), &OutputSink::buffer());
    let e = s.add_object("core.o", &fixture("core.o")).unwrap_err();
    assert!(matches!(e, LinkError::Unsupported { .. }));
    let msg = e.to_string();
    assert!(
        msg.starts_with(
            "core.o: raw_tp/sched_switch+0x8 in function `task_pid`: unsupported: CO-RE \
             relocation (field byte offset of `struct task_struct.pid`) needs the kernel's BTF: \
             give it with --btf FILE"
        ),
        "{msg}"
    );
    // Against a "kernel" whose task_struct has tgid at 16 and pid at 24.
    s.set_target_btf(&fixture("core_target.o")).unwrap();
    s.add_object("core.o", &fixture("core.o")).unwrap();
    let p = s.program("task_pid").unwrap();
    let mut ctx = vec![0u8; 32];
    ctx[16] = 9;
    ctx[24] = 20;
    assert_eq!(s.run_program(&p, Input::Context(&ctx)).unwrap().ret, 1020);
}

#[test]
fn kernel_externs_unknown_map_types_and_big_stacks_are_refused_by_name() {
    let mut s = kernel_session(KernelConfig::default(), &OutputSink::buffer());
    let e = s
        .add_object("kconfig.o", &fixture("kconfig.o"))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "kconfig.o: extern `LINUX_KERNEL_VERSION`: unsupported: Kconfig extern (__kconfig), \
         which needs the kernel's configuration"
    );
    let e = s
        .add_object("unsupported.o", &fixture("unsupported.o"))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "unsupported.o: map `stacks`: unsupported: map type stack_trace \
         (BPF_MAP_TYPE_STACK_TRACE)"
    );
    let e = s
        .add_object("grow_head.o", &fixture("grow_head.o"))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "grow_head.o: tc+0x10 in function `grow`: unsupported: kernel helper \
         bpf_skb_change_head#43 is not implemented"
    );
    let e = s
        .add_object("big_stack.o", &fixture("big_stack.o"))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "big_stack.o: function `big` uses 1000 bytes of stack, more than the VM's 512-byte \
         call frames; raise the frame size to at least 1000 (--stack-size 1000)"
    );
    let mut big = Session::new(
        Vm::new(bpf_vm::VmConfig {
            frame_size: 1024,
            ..Default::default()
        }),
        SessionOptions::default(),
    );
    big.enable_kernel(Kernel::new(KernelConfig::default(), OutputSink::buffer()));
    big.add_object("big_stack.o", &fixture("big_stack.o"))
        .unwrap();
    let p = big.program("big").unwrap();
    assert_eq!(big.run_program(&p, Input::Context(&[3])).unwrap().ret, 0);
    assert!(s.objects().is_empty(), "failed links leave nothing behind");
    assert_eq!(s.vm().mem.region_len(RegionKind::Kernel), 0);
}

#[test]
fn xdp_programs_move_the_packet_start_and_end() {
    let mut s = load("xdp_adjust.o");
    let p = s.program("tag_and_trim").unwrap();
    let frame = ipv4(17, [1, 2, 3, 4], 53, 6);
    let o = s
        .run_program(
            &p,
            Input::Packet {
                data: &frame,
                timestamp_ns: None,
            },
        )
        .unwrap();
    assert_eq!(p.ty.verdict(o.ret), "XDP_TX");
    let mut want = vec![0xde, 0xad, 0xbe, 0xef];
    want.extend(&frame[..frame.len() - 2]);
    assert_eq!(o.packet.unwrap(), want);
}

#[test]
fn maps_come_and_go_with_their_unit() {
    let mut s = Session::new(
        Vm::default(),
        SessionOptions {
            allow_redefinition: true,
            keep_unfixed_graphs: false,
        },
    );
    s.enable_kernel(Kernel::new(KernelConfig::default(), OutputSink::buffer()));
    s.add_object("xdp_count.o", &fixture("xdp_count.o"))
        .unwrap();
    let len = s.vm().mem.region_len(RegionKind::Kernel);
    s.add_object("iterate.o", &fixture("iterate.o")).unwrap();
    assert_eq!(s.kernel().unwrap().map_count(), 7);
    s.undo().unwrap();
    assert_eq!(s.kernel().unwrap().map_count(), 2);
    assert_eq!(s.vm().mem.region_len(RegionKind::Kernel), len);
    assert!(s.list_maps().contains("proto_count"));
    assert!(!s.list_maps().contains("squares"));
}

#[test]
fn maps_need_the_kernel_world() {
    let mut s = Session::new(Vm::default(), SessionOptions::default());
    let e = s
        .add_object("xdp_count.o", &fixture("xdp_count.o"))
        .unwrap_err();
    assert!(
        e.to_string().contains("BPF maps outside the kernel world"),
        "{e}"
    );
}
