//! Accept/reject corpus for kernel mode (registers, stack, pointer
//! arithmetic, contexts), in the spirit of the kernel's
//! verifier selftests (tools/testing/selftests/bpf/verifier) and PREVAIL's
//! test data; the programs and wording are ours. Each test name cites the
//! kernel function that enforces the rule (kernel/bpf/verifier.c, Linux
//! 6.1) or the RFC 9669 section; each rejection asserts the rule found and
//! the instruction it is reported at.

mod common;

use bpf_verifier::*;
use bpf_vm::isa::asm::*;
use bpf_vm::isa::*;
use common::*;

// ---- registers ----

#[test]
fn check_reg_arg_rejects_or_r0_r10_reading_uninitialised_r0() {
    // The conformance suite's negative test: `or %r0, %r10; exit`.
    let d = rejects_at(
        &[alu64_reg(ALU_OR, 0, 10), exit()],
        ProgType::SocketFilter,
        Rule::UninitRegister,
        0,
    );
    assert_eq!(d.kernel.as_deref(), Some("R0 !read_ok"));
}

#[test]
fn check_reg_arg_rejects_exit_without_r0() {
    let d = rejects_at(&[exit()], ProgType::Xdp, Rule::UninitRegister, 0);
    assert_eq!(d.kernel.as_deref(), Some("R0 !read_ok"));
}

#[test]
fn check_reg_arg_rejects_reading_r2_of_the_entry() {
    rejects_at(
        &[mov64_reg(0, 2), exit()],
        ProgType::Xdp,
        Rule::UninitRegister,
        0,
    );
}

#[test]
fn check_reg_arg_accepts_r1_the_context() {
    accepts(&[mov64_imm(0, 2), mov64_reg(3, 1), exit()], ProgType::Xdp);
}

#[test]
fn check_func_call_caller_saved_registers_are_gone_after_a_helper() {
    let code = [mov64_imm(1, 5), call_helper(5), mov64_reg(0, 1), exit()];
    rejects_at(&code, ProgType::Kprobe, Rule::UninitRegister, 2);
}

// ---- the stack ----

#[test]
fn check_stack_read_fixed_off_rejects_uninitialised_stack_for_unprivileged() {
    let code = [ldx(SIZE_DW, 0, 10, -8), exit()];
    let d = rejects_with(
        &code,
        ProgType::SocketFilter,
        KernelOptions::unprivileged(),
        Rule::UninitStack,
        0,
    );
    assert_eq!(
        d.kernel.as_deref(),
        Some("invalid read from stack off -8+0 size 8")
    );
    // CAP_PERFMON may read uninitialised stack: a warning only.
    let v = verdict(&code, ProgType::SocketFilter);
    assert!(v.accepted());
    assert!(v
        .diagnostics
        .iter()
        .any(|d| d.rule == Rule::UninitStack && !d.is_error()));
}

#[test]
fn check_stack_read_fixed_off_accepts_written_stack() {
    accepts(
        &[st(SIZE_DW, 10, -8, 7), ldx(SIZE_DW, 0, 10, -8), exit()],
        ProgType::SocketFilter,
    );
}

#[test]
fn check_stack_read_fixed_off_partially_written_word_is_uninitialised() {
    let code = [st(SIZE_W, 10, -8, 7), ldx(SIZE_DW, 0, 10, -8), exit()];
    let d = rejects_with(
        &code,
        ProgType::SocketFilter,
        KernelOptions::unprivileged(),
        Rule::UninitStack,
        1,
    );
    assert_eq!(
        d.kernel.as_deref(),
        Some("invalid read from stack off -8+4 size 8")
    );
}

#[test]
fn check_stack_access_within_bounds_rejects_stack_beyond_512_bytes() {
    let code = [st(SIZE_DW, 10, -520, 0), mov64_imm(0, 0), exit()];
    let d = rejects_at(&code, ProgType::SocketFilter, Rule::StackBounds, 0);
    assert_eq!(
        d.kernel.as_deref(),
        Some("invalid write to stack R10 off=-520 size=8")
    );
}

#[test]
fn check_stack_access_within_bounds_rejects_access_above_the_frame() {
    rejects_at(
        &[st(SIZE_W, 10, 0, 0), mov64_imm(0, 0), exit()],
        ProgType::SocketFilter,
        Rule::StackBounds,
        0,
    );
}

#[test]
fn check_ptr_alignment_rejects_misaligned_stack_access() {
    rejects_at(
        &[st(SIZE_DW, 10, -12, 0), mov64_imm(0, 0), exit()],
        ProgType::SocketFilter,
        Rule::MisalignedStack,
        0,
    );
}

#[test]
fn check_stack_write_var_off_accepts_bounded_index_when_privileged() {
    // r1 = index & 7; *(u8 *)(r10 - 16 + r1) = 0
    let code = [
        ldx(SIZE_W, 1, 1, 0),
        alu64_imm(ALU_AND, 1, 7),
        mov64_reg(2, 10),
        alu64_imm(ALU_ADD, 2, -16),
        alu64_reg(ALU_ADD, 2, 1),
        st(SIZE_B, 2, 0, 0),
        mov64_imm(0, 0),
        exit(),
    ];
    accepts(&code, ProgType::SocketFilter);
    rejects_with(
        &code,
        ProgType::SocketFilter,
        KernelOptions::unprivileged(),
        Rule::StackBounds,
        5,
    );
}

// ---- pointer arithmetic ----

#[test]
fn adjust_ptr_min_max_vals_rejects_bitwise_ops_on_pointers() {
    let code = [
        mov64_reg(1, 10),
        alu64_imm(ALU_AND, 1, -8),
        mov64_imm(0, 0),
        exit(),
    ];
    let d = rejects_at(&code, ProgType::SocketFilter, Rule::PointerArithmetic, 1);
    assert_eq!(
        d.kernel.as_deref(),
        Some("R1 bitwise operator &= on pointer prohibited")
    );
}

#[test]
fn adjust_ptr_min_max_vals_rejects_32_bit_pointer_arithmetic() {
    let code = [
        mov64_reg(1, 10),
        alu32_imm(ALU_ADD, 1, -8),
        mov64_imm(0, 0),
        exit(),
    ];
    rejects_at(&code, ProgType::SocketFilter, Rule::PointerArithmetic, 1);
}

#[test]
fn check_reg_sane_offset_rejects_unbounded_scalar_added_to_a_pointer() {
    // r3 = a packet byte... no: an unknown number from the context, added to r10.
    let code = [
        ldx(SIZE_W, 3, 1, 0),
        alu64_imm(ALU_LSH, 3, 40),
        mov64_reg(2, 10),
        alu64_reg(ALU_ADD, 2, 3),
        mov64_imm(0, 0),
        exit(),
    ];
    rejects_at(&code, ProgType::SocketFilter, Rule::PointerArithmetic, 3);
}

#[test]
fn adjust_reg_min_max_vals_allows_32_bit_pointer_minus_pointer_when_privileged() {
    // `ctx->data_end - ctx->data` as clang -mcpu=v3 computes it: w2 -= w1.
    let code = [
        ldx(SIZE_W, 2, 1, 4),
        ldx(SIZE_W, 3, 1, 0),
        alu32_reg(ALU_SUB, 2, 3),
        mov64_reg(0, 2),
        exit(),
    ];
    accepts(&code, ProgType::Xdp);
    rejects_with(
        &code,
        ProgType::Xdp,
        KernelOptions::unprivileged(),
        Rule::PointerArithmetic,
        2,
    );
}

#[test]
fn adjust_reg_min_max_vals_rejects_pointer_minus_pointer_for_unprivileged() {
    let code = [
        mov64_reg(2, 10),
        alu64_reg(ALU_SUB, 2, 1),
        mov64_imm(0, 0),
        exit(),
    ];
    accepts(&code, ProgType::SocketFilter);
    rejects_with(
        &code,
        ProgType::SocketFilter,
        KernelOptions::unprivileged(),
        Rule::PointerArithmetic,
        1,
    );
}

// ---- the context ----

#[test]
fn check_ctx_access_rejects_out_of_bounds_context_reads() {
    let d = rejects_at(
        &[ldx(SIZE_W, 0, 1, 24), exit()],
        ProgType::Xdp,
        Rule::CtxAccess,
        0,
    );
    assert_eq!(
        d.kernel.as_deref(),
        Some("invalid bpf_context access off=24 size=4")
    );
}

#[test]
fn xdp_is_valid_access_rejects_narrow_and_wide_reads() {
    rejects_at(
        &[ldx(SIZE_DW, 0, 1, 0), exit()],
        ProgType::Xdp,
        Rule::CtxAccess,
        0,
    );
    rejects_at(
        &[ldx(SIZE_B, 0, 1, 12), exit()],
        ProgType::Xdp,
        Rule::CtxAccess,
        0,
    );
    accepts(&[ldx(SIZE_W, 0, 1, 12), exit()], ProgType::Xdp);
}

#[test]
fn check_ctx_reg_rejects_a_moved_context_pointer() {
    let code = [alu64_imm(ALU_ADD, 1, 4), ldx(SIZE_W, 0, 1, 0), exit()];
    rejects_at(&code, ProgType::Xdp, Rule::CtxAccess, 1);
}

#[test]
fn sk_filter_is_valid_access_rejects_writes_outside_cb() {
    rejects_at(
        &[stx(SIZE_W, 1, 1, 8), mov64_imm(0, 0), exit()],
        ProgType::SocketFilter,
        Rule::CtxAccess,
        0,
    );
    // cb[0] is writable, but not with a pointer for unprivileged loaders
    let code = [
        mov64_imm(2, 1),
        stx(SIZE_W, 1, 2, 48),
        mov64_imm(0, 0),
        exit(),
    ];
    accepts(&code, ProgType::SocketFilter);
}

#[test]
fn tc_cls_act_is_valid_access_allows_mark_writes() {
    let code = [
        mov64_imm(2, 7),
        stx(SIZE_W, 1, 2, 8),
        mov64_imm(0, 0),
        exit(),
    ];
    accepts(&code, ProgType::SchedCls);
    rejects_at(&code, ProgType::SocketFilter, Rule::CtxAccess, 1);
}

#[test]
fn kprobe_prog_is_valid_access_is_read_only() {
    accepts(&[ldx(SIZE_DW, 0, 1, 112), exit()], ProgType::Kprobe);
    rejects_at(
        &[st(SIZE_DW, 1, 0, 0), mov64_imm(0, 0), exit()],
        ProgType::Kprobe,
        Rule::CtxAccess,
        0,
    );
}
