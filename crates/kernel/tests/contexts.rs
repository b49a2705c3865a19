//! Kernel contexts and helpers exercised with hand-assembled programs on a
//! bare VM (no linker): what a field read gives, what a write may change,
//! how helpers fail.

use bpf_kernel::{Input, Kernel, KernelConfig, MapSpec, MapType, ProgType};
use bpf_runtime::OutputSink;
use bpf_vm::isa::asm::*;
use bpf_vm::isa::*;
use bpf_vm::{Insn, Vm};

fn setup(code: &[Insn]) -> (Vm, Kernel, usize) {
    let mut vm = Vm::default();
    let k = Kernel::new(KernelConfig::default(), OutputSink::buffer());
    k.install(&mut vm);
    let at = vm.load_code(code).unwrap();
    (vm, k, at)
}

fn frame(len: usize) -> Vec<u8> {
    let mut p = vec![0xaa; 12];
    p.extend([0x86, 0xdd]); // IPv6
    p.resize(len, 0x11);
    p
}

#[test]
fn skb_fields_read_as_the_kernel_rewrites_them() {
    // r0 = skb->len + (skb->protocol << 16); skb->mark = 7; and
    // data_end - data must be the length (60) too, else r0 = -1.
    let code = [
        mov64_imm(5, 60),
        ldx(SIZE_W, 0, 1, 0),
        ldx(SIZE_W, 2, 1, 16),
        alu64_imm(ALU_LSH, 2, 16),
        alu64_reg(ALU_ADD, 0, 2),
        st(SIZE_W, 1, 8, 7),
        ldx(SIZE_W, 3, 1, 80),
        ldx(SIZE_W, 4, 1, 76),
        alu64_reg(ALU_SUB, 3, 4),
        jmp_reg(JMP_JEQ, 3, 5, 1),
        mov64_imm(0, -1),
        exit(),
    ];
    let (mut vm, k, at) = setup(&code);
    let packet = Input::Packet {
        data: &frame(60),
        timestamp_ns: None,
    };
    let out = k.run(&mut vm, at, &ProgType::SchedCls, packet).unwrap();
    // protocol is in network byte order: 0x86dd stored as 0xdd86.
    assert_eq!(out.ret, 60 + (0xdd86 << 16));
}

#[test]
fn read_only_fields_and_wrong_sizes_are_faults_naming_the_field() {
    let (mut vm, k, at) = setup(&[st(SIZE_W, 1, 0, 1), mov64_imm(0, 0), exit()]);
    let e = k
        .run(
            &mut vm,
            at,
            &ProgType::SchedCls,
            Input::Packet {
                data: &frame(20),
                timestamp_ns: None,
            },
        )
        .unwrap_err();
    assert!(
        e.to_string().starts_with("__sk_buff.len is read-only"),
        "{e}"
    );
    let (mut vm, k, at) = setup(&[ldx(SIZE_DW, 0, 1, 0), exit()]);
    let e = k
        .run(
            &mut vm,
            at,
            &ProgType::Xdp,
            Input::Packet {
                data: &frame(20),
                timestamp_ns: None,
            },
        )
        .unwrap_err();
    assert!(
        e.to_string().contains("only 4-byte reads of xdp_md fields"),
        "{e}"
    );
}

#[test]
fn probe_reads_fail_softly_and_ring_records_are_submitted_once() {
    // probe_read_kernel_str(r10-16, 16, ctx) then from NULL.
    let code = [
        mov64_reg(6, 1),
        mov64_reg(1, 10),
        alu64_imm(ALU_ADD, 1, -16),
        mov64_imm(2, 16),
        mov64_reg(3, 6),
        call_helper(115),
        mov64_reg(7, 0),
        mov64_reg(1, 10),
        alu64_imm(ALU_ADD, 1, -16),
        mov64_imm(2, 16),
        mov64_imm(3, 0),
        call_helper(115),
        // r0 = first * 1000 + (second == -EFAULT)
        alu64_imm(ALU_MUL, 7, 1000),
        jmp_imm(JMP_JNE, 0, -14, 1),
        alu64_imm(ALU_ADD, 7, 1),
        mov64_reg(0, 7),
        exit(),
    ];
    let (mut vm, k, at) = setup(&code);
    let out = k
        .run(
            &mut vm,
            at,
            &ProgType::Kprobe,
            Input::Context(b"hello\0world"),
        )
        .unwrap();
    assert_eq!(out.ret, 6 * 1000 + 1, "6 bytes with the NUL, then -EFAULT");

    // Reserve, submit, submit again: the second is a fault naming the helper.
    let spec = MapSpec {
        map_type: MapType::RingBuf,
        key_size: 0,
        value_size: 0,
        max_entries: 4096,
        flags: 0,
    };
    let mut vm = Vm::default();
    let k = Kernel::new(KernelConfig::default(), OutputSink::buffer());
    k.install(&mut vm);
    let rb = k.create_map(&mut vm.mem, "rb", &spec).unwrap();
    let mut code: Vec<Insn> = ld_imm64(1, rb).to_vec();
    code.extend([
        mov64_imm(2, 8),
        mov64_imm(3, 0),
        call_helper(131),
        mov64_reg(6, 0),
        st(SIZE_DW, 6, 0, 99),
        mov64_reg(1, 6),
        mov64_imm(2, 0),
        call_helper(132),
        mov64_reg(1, 6),
        mov64_imm(2, 0),
        call_helper(132),
        exit(),
    ]);
    let at = vm.load_code(&code).unwrap();
    let e = k
        .run(&mut vm, at, &ProgType::Kprobe, Input::Context(&[0; 8]))
        .unwrap_err();
    assert!(
        e.to_string().starts_with("bpf_ringbuf_submit: ")
            && e.to_string().contains("not an outstanding reservation"),
        "{e}"
    );
    let events = k.take_events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].data, 99u64.to_le_bytes());
}
