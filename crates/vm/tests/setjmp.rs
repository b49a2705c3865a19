//! `setjmp`/`longjmp` across BPF frames (`HelperStep::SetJmp`/`LongJmp`)
//! and callback helpers in the runtime table.

use bpf_vm::exec::{ExecState, Frame, Jump, Outcome};
use bpf_vm::isa::asm::*;
use bpf_vm::isa::*;
use bpf_vm::{
    code_addr, CallbackHelperFn, HelperError, HelperEvent, HelperStep, RegionKind, TrapKind, Vm,
};

const SETJMP: i32 = 1;
const LONGJMP: i32 = 2;
const EACH: i32 = 3;

fn callback(
    f: impl FnMut(HelperEvent) -> Result<HelperStep, HelperError> + 'static,
) -> CallbackHelperFn {
    let mut f = f;
    Box::new(move |_, ev| f(ev))
}

/// setjmp(buf), longjmp(buf, v), and each(n, func): calls func(i) for i
/// in 0..n and returns the sum of the results.
fn vm_with_helpers() -> Vm {
    let mut vm = Vm::default();
    vm.register_runtime_callback_helper(
        SETJMP as u32,
        "setjmp",
        callback(|ev| match ev {
            HelperEvent::Start([buf, ..]) => Ok(HelperStep::SetJmp { buf }),
            HelperEvent::Resume { .. } => unreachable!(),
        }),
    );
    vm.register_runtime_callback_helper(
        LONGJMP as u32,
        "longjmp",
        callback(|ev| match ev {
            HelperEvent::Start([buf, value, ..]) => Ok(HelperStep::LongJmp { buf, value }),
            HelperEvent::Resume { .. } => unreachable!(),
        }),
    );
    vm.register_runtime_callback_helper(
        EACH as u32,
        "each",
        callback(|ev| {
            let [i, n, func, acc] = match ev {
                HelperEvent::Start([n, func, ..]) => [0, n, func, 0],
                HelperEvent::Resume { state, ret } => {
                    let [i, n, func, acc] = state;
                    [i + 1, n, func, acc + ret]
                }
            };
            if i == n {
                return Ok(HelperStep::Return(acc));
            }
            Ok(HelperStep::Call {
                func,
                args: [i, 0, 0, 0, 0],
                state: [i, n, func, acc],
            })
        }),
    );
    vm
}

#[test]
fn longjmp_unwinds_frames_and_restores_callee_saved_registers() {
    let p = [
        mov64_imm(6, 7),
        mov64_reg(1, 10),
        alu64_imm(ALU_ADD, 1, -8),
        call_runtime(SETJMP), // 3
        jmp_imm(JMP_JNE, 0, 0, 5),
        mov64_imm(6, 99), // changed after setjmp: longjmp brings back 7
        mov64_reg(1, 10),
        alu64_imm(ALU_ADD, 1, -8),
        call_local(4), // 8: f(buf)
        exit(),
        // 10: setjmp returned again: r0 * 100 + r6, and r10 must be main's
        alu64_imm(ALU_MUL, 0, 100),
        alu64_reg(ALU_ADD, 0, 6),
        exit(),
        // 13: f(buf): clobbers r6, calls g(buf)
        mov64_imm(6, 55),
        call_local(1),
        exit(),
        // 16: g(buf): longjmp(buf, 3)
        mov64_imm(2, 3),
        call_runtime(LONGJMP),
        exit(),
    ];
    let mut vm = vm_with_helpers();
    let at = vm.load_code(&p).unwrap();
    assert_eq!(vm.call(at, &[]).unwrap(), 307);
    // The frames are gone: a second run starts from a clean stack, and
    // many round trips do not grow anything.
    assert_eq!(vm.call(at, &[]).unwrap(), 307);
}

#[test]
fn setjmp_stores_through_a_checked_pointer() {
    let p = [mov64_imm(1, 16), call_runtime(SETJMP), exit()];
    let mut vm = vm_with_helpers();
    let at = vm.load_code(&p).unwrap();
    let t = vm.call(at, &[]).unwrap_err();
    match t.kind {
        TrapKind::Helper {
            helper,
            error: HelperError::Memory(e),
        } => {
            assert_eq!(helper, "setjmp");
            assert_eq!(e.addr, 16);
        }
        other => panic!("{other:?}"),
    }
}

/// Loads the address of the data-region buffer into r1.
fn buf_arg(buf: u64) -> [Insn; 2] {
    ld_imm64(1, buf)
}

#[test]
fn longjmp_to_a_returned_function_or_an_unset_buffer_is_a_fault() {
    let mut vm = vm_with_helpers();
    let buf = vm.mem.alloc(RegionKind::Data, 8, 8).unwrap();
    // main: f(); longjmp(buf, 1)   f: setjmp(buf); return
    let mut p = vec![call_local(5)];
    p.extend(buf_arg(buf)); // 1-2
    p.extend([mov64_imm(2, 1), call_runtime(LONGJMP), exit()]); // 3-5
    p.extend(buf_arg(buf)); // 6-7: f
    p.extend([call_runtime(SETJMP), exit()]);
    let at = vm.load_code(&p).unwrap();
    let t = vm.call(at, &[]).unwrap_err();
    let msg = t.kind.to_string();
    assert!(msg.contains("has returned"), "{msg}");
    assert_eq!(t.pc, at + 4);

    // A buffer setjmp never filled, and a token from an earlier run.
    let mut vm = vm_with_helpers();
    let buf = vm.mem.alloc(RegionKind::Data, 8, 8).unwrap();
    let mut p = buf_arg(buf).to_vec();
    p.extend([mov64_imm(2, 1), call_runtime(LONGJMP), exit()]); // 0: longjmp only
    p.extend(buf_arg(buf)); // 5: setjmp only
    p.extend([call_runtime(SETJMP), exit()]);
    let at = vm.load_code(&p).unwrap();
    let t = vm.call(at, &[]).unwrap_err();
    assert!(t.kind.to_string().contains("not filled by setjmp"), "{t}");
    vm.call(at + 5, &[]).unwrap();
    assert_ne!(vm.mem.load(buf, 8).unwrap(), 0);
    let t = vm.call(at, &[]).unwrap_err();
    assert!(t.kind.to_string().contains("during this run"), "{t}");
}

#[test]
fn longjmp_out_of_a_callback_abandons_the_waiting_helper() {
    let mut vm = vm_with_helpers();
    let buf = vm.mem.alloc(RegionKind::Data, 16, 8).unwrap();
    let flag = buf + 8;
    // main: r6 = setjmp(buf); return each(3, cb) + r6 * 1000
    let mut p = buf_arg(buf).to_vec(); // 0-1
    p.extend([call_runtime(SETJMP), mov64_reg(6, 0), mov64_imm(1, 3)]); // 2-4
    p.extend(ld_imm64(2, 0)); // 5-6: patched below to cb's address
    p.extend([
        call_runtime(EACH), // 7
        mov64_reg(7, 6),
        alu64_imm(ALU_MUL, 7, 1000),
        alu64_reg(ALU_ADD, 0, 7),
        exit(),
    ]);
    // 12: cb(i): if i == 1 && !*flag { *flag = 1; longjmp(buf, 42) } return i
    let cb = p.len();
    p.extend([mov64_reg(6, 1), jmp_imm(JMP_JNE, 6, 1, 9)]);
    p.extend(ld_imm64(2, flag));
    p.extend([
        ldx(SIZE_DW, 3, 2, 0),
        jmp_imm(JMP_JNE, 3, 0, 5),
        st(SIZE_DW, 2, 0, 1),
    ]);
    p.extend(buf_arg(buf));
    p.extend([mov64_imm(2, 42), call_runtime(LONGJMP)]);
    p.extend([mov64_reg(0, 6), exit()]);
    let cb_addr = code_addr(cb);
    p[5] = ld_imm64(2, cb_addr)[0];
    p[6] = ld_imm64(2, cb_addr)[1];
    let at = vm.load_code(&p).unwrap();
    vm.mark_entry(at + cb);
    // First pass: cb(0) = 0, cb(1) jumps back with 42; second pass sums 0+1+2.
    assert_eq!(vm.call(at, &[]).unwrap(), 42_003);
}

#[test]
fn under_a_base_depth_a_jump_stops_for_the_owner_of_the_frames() {
    let mut vm = vm_with_helpers();
    let buf = vm.mem.alloc(RegionKind::Data, 8, 8).unwrap();
    let mut p = buf_arg(buf).to_vec();
    p.extend([mov64_imm(6, 5), call_runtime(SETJMP), exit()]); // 2: r6 = 5, 3: setjmp
    let at = vm.load_code(&p).unwrap();
    // Interpreted on top of a frame another engine holds: it stops at the call.
    let mut state = ExecState::new(at, &[]);
    state.base_depth = 1;
    let mut fuel = 100;
    let out = vm.interpret(&mut state, &mut fuel).unwrap();
    let Outcome::Jump { helper, jump } = out else {
        panic!("expected a jump stop, got {out:?}");
    };
    assert_eq!(jump, Jump::Set { buf, next: at + 4 });
    assert_eq!(state.pc, at + 3);
    assert_eq!(fuel, 97, "three instructions ran");
    // Refused while the base frames are not explicit.
    let t = vm.jump(&mut state.clone(), helper, jump).unwrap_err();
    assert!(t.to_string().contains("setjmp"), "{t}");
    // The owner makes its frame explicit; the jump then completes.
    state.base_depth = 0;
    state.frames.insert(0, Frame::new(99, [0; 4]));
    vm.jump(&mut state, helper, jump).unwrap();
    assert_eq!((state.pc, state.regs[0]), (at + 4, 0));
    assert_ne!(vm.mem.load(buf, 8).unwrap(), 0, "the token is stored");
    assert_eq!(state.frames[0].serial, 1, "setjmp named its activation");
}
