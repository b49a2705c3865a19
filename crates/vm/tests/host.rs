//! The host side of the VM beyond plain helpers: helpers that call back
//! into BPF, tail calls, a device behind unmapped addresses (program
//! contexts) and legacy packet loads.

use bpf_vm::isa::asm::*;
use bpf_vm::isa::*;
use bpf_vm::{
    code_addr, Device, HelperError, HelperEvent, HelperStep, Memory, RegionKind, TrapKind, Vm,
    MAX_TAIL_CALLS,
};
use std::cell::RefCell;
use std::rc::Rc;

/// `bpf_loop(n, callback, ctx, flags)` as the kernel documents it: calls
/// `callback(i, ctx)` for i in 0..n until it returns 1; returns the number
/// of calls made.
fn register_loop(vm: &mut Vm) {
    vm.register_callback_helper(
        181,
        "bpf_loop",
        Box::new(|_, event| {
            let (i, n, cb, ctx) = match event {
                HelperEvent::Start([n, cb, ctx, ..]) => (0, n, cb, ctx),
                HelperEvent::Resume { state, ret } => {
                    let [i, n, cb, ctx] = state;
                    if ret == 1 {
                        return Ok(HelperStep::Return(i));
                    }
                    (i, n, cb, ctx)
                }
            };
            if i == n {
                return Ok(HelperStep::Return(i));
            }
            Ok(HelperStep::Call {
                func: cb,
                args: [i, ctx, 0, 0, 0],
                state: [i + 1, n, cb, ctx],
            })
        }),
    );
}

/// main: sums the loop indices into a stack slot through the callback at
/// slot 13; returns calls * 1000 + sum. The callback stops at `stop_at`
/// and clobbers r6, which the caller still relies on.
fn loop_program(stop_at: i32) -> Vec<Insn> {
    let mut p = vec![
        mov64_reg(6, 10),
        alu64_imm(ALU_ADD, 6, -8),
        st(SIZE_DW, 10, -8, 0),
    ];
    p.extend(ld_imm64(2, code_addr(14)));
    p.extend([
        mov64_imm(1, 10),
        mov64_reg(3, 6),
        mov64_imm(4, 0),
        call_helper(181),
        ldx(SIZE_DW, 1, 6, 0),
        alu64_imm(ALU_MUL, 0, 1000),
        alu64_reg(ALU_ADD, 0, 1),
        exit(),
        exit(), // slot 13: padding, never run
        // slot 14: callback(i = r1, ctx = r2)
        ldx(SIZE_DW, 3, 2, 0),
        alu64_reg(ALU_ADD, 3, 1),
        stx(SIZE_DW, 2, 3, 0),
        mov64_imm(6, 99),
        mov64_imm(0, 0),
        jmp_imm(JMP_JNE, 1, stop_at, 1),
        mov64_imm(0, 1),
        exit(),
    ]);
    p
}

#[test]
fn helpers_call_back_into_bpf() {
    let mut vm = Vm::default();
    register_loop(&mut vm);
    let at = vm.load_code(&loop_program(-1)).unwrap();
    vm.mark_entry(at + 14);
    assert_eq!(vm.call(at, &[]).unwrap(), 10 * 1000 + 45);
    // The callback asks to stop after index 3: four calls, 0+1+2+3.
    let mut vm = Vm::default();
    register_loop(&mut vm);
    let at = vm.load_code(&loop_program(3)).unwrap();
    vm.mark_entry(at + 14);
    assert_eq!(vm.call(at, &[]).unwrap(), 4 * 1000 + 6);
}

#[test]
fn a_callback_must_be_a_function_entry_and_its_faults_show_the_helper_call() {
    let mut vm = Vm::default();
    register_loop(&mut vm);
    let at = vm.load_code(&loop_program(-1)).unwrap();
    // Not marked as an entry: refused like a bad `callx`.
    let t = vm.call(at, &[]).unwrap_err();
    assert_eq!(t.kind, TrapKind::BadCallTarget(code_addr(14)));
    assert_eq!(t.pc, 8);
    // A fault inside the callback names the helper call as its caller.
    let mut p = loop_program(-1);
    p[14] = ldx(SIZE_DW, 3, 0, 0); // r0 is 0 here: NULL
    let mut vm = Vm::default();
    register_loop(&mut vm);
    let at = vm.load_code(&p).unwrap();
    vm.mark_entry(at + 14);
    let t = vm.call(at, &[]).unwrap_err();
    assert!(matches!(t.kind, TrapKind::Memory(_)), "{t}");
    assert_eq!((t.pc, t.call_sites.clone()), (14, vec![8]));
}

#[test]
fn callbacks_nest() {
    // Outer loop of 3 whose callback runs an inner loop of 4 that counts
    // into the shared context: 12 increments.
    let mut vm = Vm::default();
    register_loop(&mut vm);
    let mut p = vec![
        mov64_reg(6, 10),
        alu64_imm(ALU_ADD, 6, -8),
        st(SIZE_DW, 10, -8, 0),
    ];
    p.extend(ld_imm64(2, code_addr(13))); // slots 3-4
    p.extend([
        mov64_imm(1, 3),
        mov64_reg(3, 6),
        mov64_imm(4, 0),
        call_helper(181), // slot 8
        ldx(SIZE_DW, 0, 6, 0),
        exit(),
        exit(),
        exit(),
    ]);
    // slot 13: outer callback(i, ctx): bpf_loop(4, inner, ctx, 0)
    assert_eq!(p.len(), 13);
    p.push(mov64_reg(3, 2));
    p.extend(ld_imm64(2, code_addr(22)));
    p.extend([
        mov64_imm(1, 4),
        mov64_imm(4, 0),
        call_helper(181), // slot 18
        mov64_imm(0, 0),
        exit(),
        exit(),
        // slot 22: inner callback(i, ctx): *ctx += 1
        ldx(SIZE_DW, 3, 2, 0),
        alu64_imm(ALU_ADD, 3, 1),
        stx(SIZE_DW, 2, 3, 0),
        mov64_imm(0, 0),
        exit(),
    ]);
    let at = vm.load_code(&p).unwrap();
    vm.mark_entry(at + 13);
    vm.mark_entry(at + 22);
    assert_eq!(vm.call(at, &[]).unwrap(), 12);
}

/// `bpf_tail_call(ctx, map, index)` whose only program is at `target`.
fn register_tail_call(vm: &mut Vm, target: usize) {
    vm.register_callback_helper(
        12,
        "bpf_tail_call",
        Box::new(move |_, event| match event {
            HelperEvent::Start([ctx, ..]) => Ok(HelperStep::TailCall {
                func: code_addr(target),
                ctx,
                on_failure: (-2i64) as u64,
            }),
            HelperEvent::Resume { .. } => Err(HelperError::Fault("no callbacks".into())),
        }),
    );
}

#[test]
fn tail_calls_replace_the_program_up_to_the_kernel_limit() {
    // prog(ctx): r6 = ctx + 1; tail_call(r6); return r6 (reached when the
    // tail call fails, with r0 the failure value).
    let p = [
        mov64_reg(6, 1),
        alu64_imm(ALU_ADD, 6, 1),
        mov64_reg(1, 6),
        call_helper(12),
        jmp_imm(JMP_JNE, 0, -2, 1),
        mov64_reg(0, 6),
        exit(),
    ];
    let mut vm = Vm::default();
    let at = vm.load_code(&p).unwrap();
    vm.mark_entry(at);
    register_tail_call(&mut vm, at);
    assert_eq!(vm.call(at, &[0]).unwrap(), MAX_TAIL_CALLS as u64 + 1);
}

#[test]
fn a_tail_call_from_a_subprogram_returns_to_its_caller() {
    let p = [
        call_local(2),
        alu64_imm(ALU_ADD, 0, 100),
        exit(),
        // slot 3: sub
        call_helper(12),
        mov64_imm(0, 1),
        exit(),
        // slot 6: the tail-called program
        mov64_imm(0, 7),
        exit(),
    ];
    let mut vm = Vm::default();
    let at = vm.load_code(&p).unwrap();
    vm.mark_entry(at + 6);
    register_tail_call(&mut vm, at + 6);
    assert_eq!(vm.call(at, &[]).unwrap(), 107);
}

const CTX: u64 = RegionKind::Kernel.base() + 0xc000_0000;

/// The stores a [`Ctx`] saw: (size, value).
type Stores = Rc<RefCell<Vec<(usize, u64)>>>;

/// A context whose field 0 is a 64-bit pointer behind a 32-bit load, field
/// 4 may not be read, byte 12 is 0xff, and field 8 records stores.
struct Ctx {
    stored: Stores,
    packet: Vec<u8>,
}

impl Device for Ctx {
    fn load(&mut self, _: &Memory, addr: u64, size: usize) -> Option<Result<u64, HelperError>> {
        match (addr.checked_sub(CTX)?, size) {
            (0, 4) => Some(Ok(0x8_0000_1234)),
            (4, _) => Some(Err(HelperError::Fault("field 4 is write-only".into()))),
            (12, 1) => Some(Ok(0xff)),
            _ => None,
        }
    }

    fn store(
        &mut self,
        _: &mut Memory,
        addr: u64,
        size: usize,
        v: u64,
    ) -> Option<Result<(), HelperError>> {
        (addr == CTX + 8).then(|| {
            self.stored.borrow_mut().push((size, v));
            Ok(())
        })
    }

    fn packet_load(
        &mut self,
        _: &Memory,
        off: i64,
        size: usize,
    ) -> Result<Option<u64>, HelperError> {
        let Some(bytes) = usize::try_from(off)
            .ok()
            .and_then(|o| self.packet.get(o..o + size))
        else {
            return Ok(None);
        };
        Ok(Some(bytes.iter().fold(0, |acc, b| acc << 8 | *b as u64)))
    }
}

fn device_vm(packet: &[u8]) -> (Vm, Stores) {
    let stored = Rc::new(RefCell::new(Vec::new()));
    let mut vm = Vm::default();
    vm.set_device(Some(Box::new(Ctx {
        stored: stored.clone(),
        packet: packet.to_vec(),
    })));
    (vm, stored)
}

#[test]
fn a_device_answers_faulting_context_accesses() {
    let (mut vm, stored) = device_vm(&[]);
    let p = [
        ldx(SIZE_W, 2, 1, 0),
        Insn::new(CLASS_LDX | MODE_MEMSX | SIZE_B, 3, 1, 12, 0),
        st(SIZE_W, 1, 8, 5),
        stx(SIZE_DW, 1, 2, 8),
        mov64_reg(0, 2),
        alu64_reg(ALU_ADD, 0, 3),
        exit(),
    ];
    let at = vm.load_code(&p).unwrap();
    assert_eq!(vm.call(at, &[CTX]).unwrap(), 0x8_0000_1233);
    assert_eq!(*stored.borrow(), [(4, 5), (8, 0x8_0000_1234)]);
    // The device's own refusal, and an access it declines.
    let at = vm.load_code(&[ldx(SIZE_W, 0, 1, 4), exit()]).unwrap();
    let t = vm.call(at, &[CTX]).unwrap_err();
    assert_eq!(t.to_string(), "field 4 is write-only (at instruction 7)");
    let at = vm.load_code(&[ldx(SIZE_W, 0, 1, 16), exit()]).unwrap();
    let t = vm.call(at, &[CTX]).unwrap_err();
    assert!(matches!(t.kind, TrapKind::Memory(_)), "{t}");
    // The budget stays exact across emulated accesses.
    let mut vm2 = Vm::new(bpf_vm::VmConfig {
        budget: 6,
        ..Default::default()
    });
    vm2.set_device(Some(Box::new(Ctx {
        stored: stored.clone(),
        packet: vec![],
    })));
    let at = vm2.load_code(&p).unwrap();
    assert_eq!(
        vm2.call(at, &[CTX]).unwrap_err().kind,
        TrapKind::BudgetExhausted { budget: 6 }
    );
}

#[test]
fn legacy_packet_loads_read_network_order_and_end_the_run_past_the_packet() {
    let ldabs = |size, imm| Insn::new(CLASS_LD | MODE_ABS | size, 0, 0, 0, imm);
    let ldind = |size, src, imm| Insn::new(CLASS_LD | MODE_IND | size, 0, src, 0, imm);
    let (mut vm, _) = device_vm(&[0x45, 0x00, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef]);
    let p = [
        ldabs(SIZE_H, 2),
        mov64_reg(7, 0),
        mov64_imm(1, 2),
        ldind(SIZE_W, 1, 2),
        alu64_reg(ALU_ADD, 0, 7),
        exit(),
    ];
    let at = vm.load_code(&p).unwrap();
    assert_eq!(vm.call(at, &[]).unwrap(), 0xdeadbeef + 0x1234);
    // Past the packet, even in a subprogram: the whole run returns 0.
    let p = [
        call_local(2),
        mov64_imm(0, 55),
        exit(),
        ldabs(SIZE_B, 8),
        exit(),
    ];
    let at = vm.load_code(&p).unwrap();
    assert_eq!(vm.call(at, &[]).unwrap(), 0);
    // Without a device there is no packet.
    let mut vm = Vm::default();
    let at = vm.load_code(&[ldabs(SIZE_B, 0), exit()]).unwrap();
    let t = vm.call(at, &[]).unwrap_err();
    assert!(t.to_string().contains("without a packet"), "{t}");
}
