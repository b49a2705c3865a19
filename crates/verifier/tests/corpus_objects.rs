//! Accept/reject corpus for kernel mode (packets, maps, helpers, loops,
//! calls), in the spirit of the kernel's
//! verifier selftests (tools/testing/selftests/bpf/verifier) and PREVAIL's
//! test data; the programs and wording are ours. Each test name cites the
//! kernel function that enforces the rule (kernel/bpf/verifier.c, Linux
//! 6.1) or the RFC 9669 section; each rejection asserts the rule found and
//! the instruction it is reported at.

mod common;

use bpf_verifier::kernel::KernelProgram;
use bpf_verifier::*;
use bpf_vm::isa::asm::*;
use bpf_vm::isa::*;
use common::*;

// ---- packets ----

#[test]
fn check_packet_access_rejects_packet_reads_without_a_bounds_check() {
    let code = [ldx(SIZE_W, 2, 1, 0), ldx(SIZE_B, 0, 2, 12), exit()];
    let d = rejects_at(&code, ProgType::Xdp, Rule::PacketBounds, 1);
    assert_eq!(
        d.kernel.as_deref(),
        Some("invalid access to packet, off=12 size=1, R2(id=0,off=12,r=0)")
    );
}

#[test]
fn find_good_pkt_pointers_accepts_reads_inside_a_checked_range() {
    let mut code = xdp_bounds_prologue(14);
    code.push(jmp_reg(JMP_JGT, 4, 3, 2));
    code.push(ldx(SIZE_H, 0, 2, 12));
    code.push(exit());
    code.push(mov64_imm(0, 1));
    code.push(exit());
    accepts(&code, ProgType::Xdp);
}

#[test]
fn find_good_pkt_pointers_rejects_a_read_past_the_checked_range() {
    let mut code = xdp_bounds_prologue(14);
    code.push(jmp_reg(JMP_JGT, 4, 3, 2));
    code.push(ldx(SIZE_W, 0, 2, 12)); // bytes 12..16 of 14
    code.push(exit());
    code.push(mov64_imm(0, 1));
    code.push(exit());
    rejects_at(&code, ProgType::Xdp, Rule::PacketBounds, 5);
}

#[test]
fn find_good_pkt_pointers_the_checked_side_only() {
    // if data + 14 > data_end goto read: reads on the wrong side.
    let mut code = xdp_bounds_prologue(14);
    code.push(jmp_reg(JMP_JGT, 4, 3, 1));
    code.push(ja(2));
    code.push(ldx(SIZE_B, 0, 2, 0));
    code.push(exit());
    code.push(mov64_imm(0, 1));
    code.push(exit());
    rejects_at(&code, ProgType::Xdp, Rule::PacketBounds, 6);
}

#[test]
fn find_good_pkt_pointers_end_on_the_left_and_strict_compare() {
    // if data_end <= data + 13 goto out  (not taken: data + 13 < data_end: 14 bytes)
    let mut code = xdp_bounds_prologue(13);
    code.push(jmp_reg(JMP_JLE, 3, 4, 2));
    code.push(ldx(SIZE_B, 0, 2, 13));
    code.push(exit());
    code.push(mov64_imm(0, 1));
    code.push(exit());
    accepts(&code, ProgType::Xdp);
}

#[test]
fn find_good_pkt_pointers_variable_offset_header_shares_its_check() {
    // r5 = (first byte & 15) * 4; r6 = data + r5; if r6 + 20 > end: out; *(u32 *)(r6 + 16)
    let mut code = xdp_bounds_prologue(1);
    code.extend([
        jmp_reg(JMP_JGT, 4, 3, 10),
        ldx(SIZE_B, 5, 2, 0),
        alu64_imm(ALU_AND, 5, 15),
        alu64_imm(ALU_LSH, 5, 2),
        mov64_reg(6, 2),
        alu64_reg(ALU_ADD, 6, 5),
        mov64_reg(7, 6),
        alu64_imm(ALU_ADD, 7, 20),
        jmp_reg(JMP_JGT, 7, 3, 2),
        ldx(SIZE_W, 0, 6, 16),
        exit(),
        mov64_imm(0, 1),
        exit(),
    ]);
    accepts(&code, ProgType::Xdp);
}

#[test]
fn check_mem_access_rejects_reading_data_end() {
    let code = [ldx(SIZE_W, 3, 1, 4), ldx(SIZE_B, 0, 3, 0), exit()];
    rejects_at(&code, ProgType::Xdp, Rule::InvalidMemAccess, 1);
}

#[test]
fn check_helper_call_packet_pointers_die_after_xdp_adjust_head() {
    let mut code = xdp_bounds_prologue(14);
    code.extend([
        jmp_reg(JMP_JGT, 4, 3, 6),
        mov64_reg(6, 2),
        mov64_imm(2, 4),
        call_helper(44),
        ldx(SIZE_B, 0, 6, 0),
        exit(),
        mov64_imm(0, 1),
        exit(),
    ]);
    rejects_at(&code, ProgType::Xdp, Rule::InvalidMemAccess, 8);
}

// ---- maps ----

#[test]
fn check_mem_access_rejects_map_values_not_checked_for_null() {
    let mut code = lookup_counts();
    code.extend([ldx(SIZE_DW, 0, 0, 0), exit()]);
    let d = rejects_at(&code, ProgType::Kprobe, Rule::NullDeref, 6);
    assert_eq!(
        d.kernel.as_deref(),
        Some("R0 invalid mem access 'map_value_or_null'")
    );
}

#[test]
fn mark_ptr_or_null_regs_accepts_checked_map_values_and_their_copies() {
    let mut code = lookup_counts();
    code.extend([
        mov64_reg(6, 0),
        jmp_imm(JMP_JEQ, 0, 0, 2),
        ldx(SIZE_DW, 0, 6, 8), // the copy is checked too
        exit(),
        mov64_imm(0, 0),
        exit(),
    ]);
    accepts(&code, ProgType::Kprobe);
}

#[test]
fn check_map_access_rejects_reads_past_the_value() {
    let mut code = lookup_counts();
    code.extend([
        jmp_imm(JMP_JEQ, 0, 0, 2),
        ldx(SIZE_DW, 0, 0, 12),
        exit(),
        mov64_imm(0, 0),
        exit(),
    ]);
    let d = rejects_at(&code, ProgType::Kprobe, Rule::MapValueBounds, 7);
    assert_eq!(
        d.kernel.as_deref(),
        Some("invalid access to map value, value_size=16 off=12 size=8")
    );
}

#[test]
fn check_map_access_bounded_variable_index() {
    // v[i & 1] (u64): offsets 0..=8 of 16 bytes
    let mut code = lookup_counts();
    code.extend([
        jmp_imm(JMP_JEQ, 0, 0, 6),
        mov64_imm(6, 3),
        alu64_imm(ALU_AND, 6, 1),
        alu64_imm(ALU_LSH, 6, 3),
        alu64_reg(ALU_ADD, 0, 6),
        ldx(SIZE_DW, 0, 0, 0),
        exit(),
        mov64_imm(0, 0),
        exit(),
    ]);
    accepts(&code, ProgType::Kprobe);
}

#[test]
fn check_reg_sane_offset_rejects_an_unbounded_index_into_a_map_value() {
    // v + (random number): the kernel refuses the addition itself.
    let mut code = lookup_counts();
    code.extend([
        jmp_imm(JMP_JEQ, 0, 0, 5),
        mov64_reg(6, 0),
        call_helper(7),
        alu64_reg(ALU_ADD, 6, 0),
        ldx(SIZE_B, 0, 6, 0),
        exit(),
        mov64_imm(0, 0),
        exit(),
    ]);
    let d = rejects_at(&code, ProgType::Kprobe, Rule::PointerArithmetic, 9);
    assert_eq!(
        d.kernel.as_deref(),
        Some("math between map_value pointer and register with unbounded min value is not allowed")
    );
}

#[test]
fn check_mem_access_rejects_pointer_leaks_into_maps_for_unprivileged() {
    let mut code = lookup_counts();
    code.extend([
        jmp_imm(JMP_JEQ, 0, 0, 2),
        stx(SIZE_DW, 0, 10, 0),
        exit(),
        mov64_imm(0, 0),
        exit(),
    ]);
    let d = rejects_with(
        &code,
        ProgType::SocketFilter,
        KernelOptions::unprivileged(),
        Rule::PointerLeak,
        7,
    );
    assert_eq!(d.kernel.as_deref(), Some("R10 leaks addr into map"));
    let v = verdict(&code, ProgType::SocketFilter);
    assert!(v
        .diagnostics
        .iter()
        .any(|d| d.rule == Rule::PointerLeak && !d.is_error()));
}

#[test]
fn check_return_code_rejects_returning_a_pointer_for_unprivileged() {
    rejects_with(
        &[mov64_reg(0, 10), exit()],
        ProgType::SocketFilter,
        KernelOptions::unprivileged(),
        Rule::PointerLeak,
        1,
    );
}

#[test]
fn check_helper_mem_access_rejects_an_uninitialised_key_for_unprivileged() {
    let mut code = vec![mov64_reg(2, 10), alu64_imm(ALU_ADD, 2, -4)];
    code.extend(ld_map(1, MAP_ADDR));
    code.extend([call_helper(1), mov64_imm(0, 0), exit()]);
    rejects_with(
        &code,
        ProgType::SocketFilter,
        KernelOptions::unprivileged(),
        Rule::UninitStack,
        4,
    );
}

#[test]
fn check_func_arg_rejects_a_number_where_a_map_is_expected() {
    let code = [
        st(SIZE_W, 10, -4, 0),
        mov64_reg(2, 10),
        alu64_imm(ALU_ADD, 2, -4),
        mov64_imm(1, 1),
        call_helper(1),
        mov64_imm(0, 0),
        exit(),
    ];
    let d = rejects_at(&code, ProgType::Kprobe, Rule::HelperArgs, 4);
    assert_eq!(d.kernel.as_deref(), Some("R1 type=scalar expected=map_ptr"));
}

#[test]
fn check_map_func_compatibility_rejects_lookup_in_a_ringbuf() {
    let mut code = vec![
        st(SIZE_W, 10, -4, 0),
        mov64_reg(2, 10),
        alu64_imm(ALU_ADD, 2, -4),
    ];
    code.extend(ld_map(1, RINGBUF_ADDR));
    code.extend([call_helper(1), mov64_imm(0, 0), exit()]);
    rejects_at(&code, ProgType::Kprobe, Rule::HelperArgs, 5);
}

#[test]
fn check_mem_access_rejects_writes_to_rodata() {
    let mut code = ld_map(1, RODATA_ADDR).to_vec();
    code.extend([st(SIZE_W, 1, 0, 1), ldx(SIZE_W, 0, 1, 4), exit()]);
    rejects_at(&code, ProgType::Kprobe, Rule::ReadOnly, 2);
    let mut ok = ld_map(1, RODATA_ADDR).to_vec();
    ok.extend([ldx(SIZE_W, 0, 1, 4), exit()]);
    accepts(&ok, ProgType::Kprobe);
}

#[test]
fn check_reference_leak_rejects_unsubmitted_ringbuf_reservations() {
    // r0 = reserve(events, 16, 0); if r0 == 0 exit; exit without submit
    let mut code = ld_map(1, RINGBUF_ADDR).to_vec();
    code.extend([
        mov64_imm(2, 16),
        mov64_imm(3, 0),
        call_helper(131),
        jmp_imm(JMP_JEQ, 0, 0, 1),
        st(SIZE_DW, 0, 8, 1),
        mov64_imm(0, 0),
        exit(),
    ]);
    let d = rejects_at(&code, ProgType::Kprobe, Rule::UnreleasedReference, 8);
    assert!(d
        .kernel
        .as_deref()
        .unwrap()
        .starts_with("Unreleased reference"));
    // With the submit: accepted.
    let mut ok = ld_map(1, RINGBUF_ADDR).to_vec();
    ok.extend([
        mov64_imm(2, 16),
        mov64_imm(3, 0),
        call_helper(131),
        jmp_imm(JMP_JEQ, 0, 0, 4),
        st(SIZE_DW, 0, 8, 1),
        mov64_reg(1, 0),
        mov64_imm(2, 0),
        call_helper(132),
        mov64_imm(0, 0),
        exit(),
    ]);
    accepts(&ok, ProgType::Kprobe);
}

#[test]
fn check_helper_call_rejects_helpers_of_other_program_types() {
    rejects_at(
        &[mov64_imm(2, 0), call_helper(44), mov64_imm(0, 0), exit()],
        ProgType::Kprobe,
        Rule::UnknownHelper,
        1,
    );
    let d = rejects_at(
        &[call_helper(5000), mov64_imm(0, 0), exit()],
        ProgType::Kprobe,
        Rule::UnknownHelper,
        0,
    );
    assert_eq!(d.kernel.as_deref(), Some("invalid func unknown#5000"));
}

// ---- loops and size ----

#[test]
fn is_state_visited_accepts_a_counted_loop() {
    // for (i = 0; i < 100; i++) sum += i;
    let code = [
        mov64_imm(0, 0),
        mov64_imm(2, 0),
        alu64_reg(ALU_ADD, 0, 2),
        alu64_imm(ALU_ADD, 2, 1),
        jmp_imm(JMP_JLT, 2, 100, -3),
        exit(),
    ];
    accepts(&code, ProgType::Kprobe);
}

#[test]
fn is_state_visited_rejects_a_loop_with_no_bound() {
    // for (i = 0; i != n; i++) with n from the context: may never end.
    let code = [
        ldx(SIZE_DW, 3, 1, 0),
        mov64_imm(0, 0),
        mov64_imm(2, 0),
        alu64_imm(ALU_ADD, 2, 1),
        jmp_reg(JMP_JNE, 2, 3, -2),
        exit(),
    ];
    let d = rejects_at(&code, ProgType::Kprobe, Rule::UnboundedLoop, 4);
    assert!(d
        .kernel
        .as_deref()
        .unwrap()
        .starts_with("BPF program is too large"));
}

#[test]
fn is_state_visited_rejects_an_infinite_loop() {
    rejects_at(
        &[mov64_imm(0, 0), ja(-1), exit()],
        ProgType::Kprobe,
        Rule::UnboundedLoop,
        1,
    );
}

#[test]
fn check_cfg_rejects_loops_for_unprivileged_loaders() {
    let code = [
        mov64_imm(0, 0),
        alu64_imm(ALU_ADD, 0, 1),
        jmp_imm(JMP_JLT, 0, 10, -2),
        exit(),
    ];
    let d = rejects_with(
        &code,
        ProgType::SocketFilter,
        KernelOptions::unprivileged(),
        Rule::BackEdge,
        2,
    );
    assert_eq!(d.kernel.as_deref(), Some("back-edge from insn 2 to 1"));
}

#[test]
fn bpf_complexity_limit_rejects_loops_the_kernel_would_walk_too_long() {
    // Three nested loops of 200 iterations: ~8M iterations of the innermost body.
    let code = [
        mov64_imm(0, 0),
        mov64_imm(2, 0),
        mov64_imm(3, 0),
        mov64_imm(4, 0),
        alu64_imm(ALU_ADD, 0, 1),
        alu64_imm(ALU_ADD, 4, 1),
        jmp_imm(JMP_JLT, 4, 200, -3),
        alu64_imm(ALU_ADD, 3, 1),
        jmp_imm(JMP_JLT, 3, 200, -6),
        alu64_imm(ALU_ADD, 2, 1),
        jmp_imm(JMP_JLT, 2, 200, -9),
        exit(),
    ];
    rejects_at(&code, ProgType::Kprobe, Rule::TooComplex, 0);
}

#[test]
fn bpf_prog_load_rejects_more_than_4096_instructions_for_unprivileged() {
    let mut code = vec![mov64_imm(0, 0); 4100];
    code.push(exit());
    rejects_with(
        &code,
        ProgType::SocketFilter,
        KernelOptions::unprivileged(),
        Rule::TooManyInsns,
        0,
    );
    accepts(&code, ProgType::SocketFilter);
}

#[test]
fn check_cfg_rejects_falling_off_the_end() {
    rejects_at(
        &[mov64_imm(0, 0)],
        ProgType::Kprobe,
        Rule::BadControlFlow,
        0,
    );
}

// ---- calls ----

#[test]
fn check_func_call_analyses_subprograms_in_the_callers_context() {
    // main: r1 = r10 - 8; *(u64 *)(r10 - 8) = 5; call sub; exit
    // sub:  r0 = *(u64 *)(r1 + 0); exit          (reads the caller's stack)
    let code = [
        st(SIZE_DW, 10, -8, 5),
        mov64_reg(1, 10),
        alu64_imm(ALU_ADD, 1, -8),
        call_local(1),
        exit(),
        ldx(SIZE_DW, 0, 1, 0),
        exit(),
    ];
    let program = Program {
        code: &code,
        base: 0,
        functions: vec![
            Function {
                name: "main".into(),
                start: 0,
                end: 5,
                external: true,
            },
            Function {
                name: "sub".into(),
                start: 5,
                end: 7,
                external: false,
            },
        ],
    };
    let maps = maps();
    let env = KernelEnv {
        facts: ObjectFacts::default(),
        maps: &maps,
        options: KernelOptions::unprivileged(),
    };
    let kp = KernelProgram {
        function: 0,
        prog_type: ProgType::SocketFilter,
        section: "socket".into(),
    };
    let v = verify_kernel(&program, &kp, &env, Limits::default());
    assert!(v.accepted(), "{:#?}", v.diagnostics);
    // The same sub reading past the caller's value is refused.
    let mut bad = code;
    bad[5] = ldx(SIZE_DW, 0, 1, 8);
    let program = Program {
        code: &bad,
        ..program
    };
    let v = verify_kernel(&program, &kp, &env, Limits::default());
    assert!(
        v.diagnostics
            .iter()
            .any(|d| d.rule == Rule::StackBounds && d.slot == 5),
        "{:#?}",
        v.diagnostics
    );
}

#[test]
fn check_cfg_rejects_recursion() {
    let code = [call_local(-1), mov64_imm(0, 0), exit()];
    let program = Program {
        code: &code,
        base: 0,
        functions: vec![Function {
            name: "f".into(),
            start: 0,
            end: 3,
            external: true,
        }],
    };
    let maps = maps();
    let env = KernelEnv {
        facts: ObjectFacts::default(),
        maps: &maps,
        options: KernelOptions::privileged(),
    };
    let kp = KernelProgram {
        function: 0,
        prog_type: ProgType::Kprobe,
        section: "kprobe".into(),
    };
    let v = verify_kernel(&program, &kp, &env, Limits::default());
    assert!(
        v.diagnostics.iter().any(|d| d.rule == Rule::Recursion),
        "{:#?}",
        v.diagnostics
    );
}

#[test]
fn rfc9669_callx_is_not_a_kernel_instruction() {
    rejects_at(
        &[
            mov64_imm(1, 0),
            Insn::new(OP_CALLX, 1, 0, 0, 0),
            mov64_imm(0, 0),
            exit(),
        ],
        ProgType::Kprobe,
        Rule::Unsupported,
        1,
    );
}

#[test]
fn check_max_stack_depth_rejects_call_chains_over_512_bytes() {
    // main uses 304 bytes and calls sub, which uses 256: 320 + 256 > 512.
    let code = [
        st(SIZE_DW, 10, -304, 0),
        call_local(2),
        mov64_imm(0, 0),
        exit(),
        st(SIZE_DW, 10, -256, 0),
        exit(),
    ];
    let program = Program {
        code: &code,
        base: 0,
        functions: vec![
            Function {
                name: "main".into(),
                start: 0,
                end: 4,
                external: true,
            },
            Function {
                name: "sub".into(),
                start: 4,
                end: 6,
                external: false,
            },
        ],
    };
    let maps = maps();
    let env = KernelEnv {
        facts: ObjectFacts::default(),
        maps: &maps,
        options: KernelOptions::privileged(),
    };
    let kp = KernelProgram {
        function: 0,
        prog_type: ProgType::Kprobe,
        section: "kprobe".into(),
    };
    let v = verify_kernel(&program, &kp, &env, Limits::default());
    let d = v
        .diagnostics
        .iter()
        .find(|d| d.rule == Rule::CombinedStack)
        .expect("combined stack refused");
    assert_eq!(
        d.kernel.as_deref(),
        Some("combined stack size of 2 calls is 576. Too large")
    );
    // Each frame alone is fine; a smaller callee frame fits.
    let mut ok = code;
    ok[4] = st(SIZE_DW, 10, -128, 0);
    let program = Program {
        code: &ok,
        ..program
    };
    let v = verify_kernel(&program, &kp, &env, Limits::default());
    assert!(v.accepted(), "{:#?}", v.diagnostics);
}
