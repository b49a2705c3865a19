//! Each lowered construct, from hand-written LLVM IR (no clang needed):
//! the IR the backend is given, and that the backend then accepts it.

use bpf_cc::{lower, lower_to_ir, LowerError, LowerOptions, Mode, OptLevel, UbChecks};
use inkwell::context::Context;
use inkwell::memory_buffer::MemoryBuffer;

const HEADER: &str =
    "target datalayout = \"e-m:e-p:64:64-i64:64-i128:128-n32:64-S128\"\ntarget triple = \"bpf\"\n";

fn bitcode(ir: &str) -> Vec<u8> {
    let ctx = Context::create();
    let text = format!("{HEADER}{ir}");
    let buf = MemoryBuffer::create_from_memory_range_copy(text.as_bytes(), "test.ll");
    let module = ctx
        .create_module_from_ir(buf)
        .unwrap_or_else(|e| panic!("test IR does not parse: {e}"));
    module.write_bitcode_to_memory().as_slice().to_vec()
}

/// Options that keep the test's IR recognisable: no optimisation.
fn o0() -> LowerOptions {
    LowerOptions {
        opt: OptLevel::O0,
        ..LowerOptions::default()
    }
}

/// Lowers `ir`, checks the backend accepts the result, returns the lowered IR.
fn lowered(ir: &str) -> String {
    let bc = bitcode(ir);
    let text = lower_to_ir(&bc, &o0()).unwrap_or_else(|e| panic!("lowering failed: {e}"));
    let object = lower(&bc, &o0()).unwrap_or_else(|e| panic!("backend failed: {e}\n{text}"));
    assert_eq!(&object[..4], b"\x7fELF");
    text
}

/// The body of function `name` in IR text.
fn body<'a>(ir: &'a str, name: &str) -> &'a str {
    let needle = format!("@{name}(");
    let start = ir
        .match_indices("define ")
        .map(|(p, _)| p)
        .find(|p| ir[*p..].lines().next().is_some_and(|l| l.contains(&needle)))
        .unwrap_or_else(|| panic!("no definition of {name} in\n{ir}"));
    let end = ir[start..].find("\n}").map_or(ir.len(), |e| start + e);
    &ir[start..end]
}

#[test]
fn float_arithmetic_becomes_helper_calls_on_bit_patterns() {
    let ir = lowered(
        "define double @f(double %a, double %b) {
           %s = fadd double %a, %b
           %m = fmul double %s, %b
           %d = fdiv double %m, 3.0
           %r = frem double %d, %a
           %n = fneg double %r
           ret double %n
         }
         define float @g(float %a, float %b) {
           %s = fsub float %a, %b
           ret float %s
         }",
    );
    let f = body(&ir, "f");
    for helper in [
        "__bpf_f64_add",
        "__bpf_f64_mul",
        "__bpf_f64_div",
        "__bpf_f64_rem",
    ] {
        assert!(
            f.contains(&format!("call i64 @{helper}(i64")),
            "{helper} in\n{f}"
        );
    }
    assert!(!f.contains("fadd") && !f.contains("fneg"), "{f}");
    assert!(
        f.contains("xor i64") && f.contains("-9223372036854775808"),
        "fneg flips bit 63:\n{f}"
    );
    let g = body(&ir, "g");
    assert!(
        g.contains("@__bpf_f32_sub") && g.contains("zext i32"),
        "{g}"
    );
}

#[test]
fn float_compares_pass_the_predicate_number() {
    let ir = lowered(
        "define i1 @lt(double %a, double %b) {
           %c = fcmp olt double %a, %b
           ret i1 %c
         }
         define i1 @une(float %a, float %b) {
           %c = fcmp une float %a, %b
           ret i1 %c
         }
         define i1 @t(double %a, double %b) {
           %c = fcmp true double %a, %b
           ret i1 %c
         }",
    );
    assert!(
        body(&ir, "lt").contains("@__bpf_f64_cmp(i64 %") && body(&ir, "lt").contains(", i64 4)")
    );
    assert!(body(&ir, "une").contains("@__bpf_f32_cmp") && body(&ir, "une").contains(", i64 14)"));
    assert!(body(&ir, "t").contains("ret i1 true"));
}

#[test]
fn conversions_use_64_bit_helpers_and_extend_or_truncate() {
    let ir = lowered(
        "define double @si(i32 %x) {
           %d = sitofp i32 %x to double
           ret double %d
         }
         define float @ui(i8 %x) {
           %d = uitofp i8 %x to float
           ret float %d
         }
         define i16 @fs(double %x) {
           %i = fptosi double %x to i16
           ret i16 %i
         }
         define i64 @fu(float %x) {
           %i = fptoui float %x to i64
           ret i64 %i
         }
         define double @ext(float %x) {
           %d = fpext float %x to double
           ret double %d
         }
         define float @tr(double %x) {
           %d = fptrunc double %x to float
           ret float %d
         }
         define double @big(i128 %x) {
           %d = sitofp i128 %x to double
           ret double %d
         }
         define i128 @tobig(double %x) {
           %i = fptoui double %x to i128
           ret i128 %i
         }",
    );
    assert!(
        body(&ir, "si").contains("sext i32") && body(&ir, "si").contains("@__bpf_f64_from_i64")
    );
    assert!(body(&ir, "ui").contains("zext i8") && body(&ir, "ui").contains("@__bpf_f32_from_u64"));
    assert!(body(&ir, "fs").contains("@__bpf_f64_to_i64") && body(&ir, "fs").contains("trunc i64"));
    assert!(body(&ir, "fu").contains("@__bpf_f32_to_u64"));
    assert!(body(&ir, "ext").contains("@__bpf_f32_to_f64"));
    assert!(body(&ir, "tr").contains("@__bpf_f64_to_f32"));
    assert!(body(&ir, "big").contains("@__bpf_f64_from_i128(i64"));
    assert!(body(&ir, "tobig").contains("@__bpf_f64_to_u128(ptr"));
}

#[test]
fn float_intrinsics_become_helpers_libm_calls_or_bit_operations() {
    let ir = lowered(
        "declare double @llvm.sqrt.f64(double)
         declare float @llvm.floor.f32(float)
         declare double @llvm.fabs.f64(double)
         declare double @llvm.copysign.f64(double, double)
         declare double @llvm.fmuladd.f64(double, double, double)
         declare double @llvm.fma.f64(double, double, double)
         declare double @llvm.pow.f64(double, double)
         declare float @llvm.sin.f32(float)
         declare double @llvm.maxnum.f64(double, double)
         declare i1 @llvm.is.fpclass.f64(double, i32)
         define double @f(double %a, double %b, float %c) {
           %1 = call double @llvm.sqrt.f64(double %a)
           %2 = call float @llvm.floor.f32(float %c)
           %3 = call double @llvm.fabs.f64(double %1)
           %4 = call double @llvm.copysign.f64(double %3, double %b)
           %5 = call double @llvm.fmuladd.f64(double %4, double %a, double %b)
           %6 = call double @llvm.fma.f64(double %5, double %a, double %b)
           %7 = call double @llvm.pow.f64(double %6, double %a)
           %8 = call float @llvm.sin.f32(float %2)
           %9 = call double @llvm.maxnum.f64(double %7, double %b)
           %10 = call i1 @llvm.is.fpclass.f64(double %9, i32 3)
           %11 = select i1 %10, double %9, double %a
           ret double %11
         }",
    );
    let f = body(&ir, "f");
    for needle in [
        "@__bpf_f64_sqrt",
        "@__bpf_f32_floor",
        "@__bpf_f64_mul",
        "@__bpf_f64_add",
        "@__bpf_f64_fma",
        "call double @pow(",
        "call float @sinf(",
        "@__bpf_f64_maxnum",
        "and i64",
        "or i64",
    ] {
        assert!(f.contains(needle), "{needle} missing in\n{f}");
    }
    assert!(!f.contains("@llvm."), "an intrinsic is left:\n{f}");
}

#[test]
fn int128_multiply_and_divide_call_helpers_with_halves() {
    let ir = lowered(
        "define i128 @m(i128 %a, i128 %b) {
           %p = mul i128 %a, %b
           %q = sdiv i128 %p, %b
           %r = urem i128 %q, %a
           ret i128 %r
         }
         declare { i64, i1 } @llvm.smul.with.overflow.i64(i64, i64)
         define i1 @ov(i64 %a, i64 %b) {
           %r = call { i64, i1 } @llvm.smul.with.overflow.i64(i64 %a, i64 %b)
           %o = extractvalue { i64, i1 } %r, 1
           ret i1 %o
         }",
    );
    let m = body(&ir, "m");
    for h in ["__bpf_i128_mul", "__bpf_i128_sdiv", "__bpf_i128_urem"] {
        assert!(m.contains(&format!("call void @{h}(ptr")), "{h}:\n{m}");
    }
    // The 128-bit result comes back through a pointer.
    assert!(ir.contains("define void @m(ptr"), "{ir}");
    assert!(body(&ir, "ov").contains("@__bpf_i128_mul"));
    let ir = lowered(
        "define i128 @sh(i128 %a, i128 %n) {
           %l = shl i128 %a, %n
           %r = ashr i128 %l, %n
           %c = lshr i128 %r, 3
           ret i128 %c
         }",
    );
    let sh = body(&ir, "sh");
    assert!(
        !sh.contains("shl i128 %a, %n") && !sh.contains("ashr i128"),
        "{sh}"
    );
    assert!(sh.contains("ashr i64"), "{sh}");
}

#[test]
fn six_arguments_use_an_argument_block_in_definition_and_call() {
    let ir = lowered(
        "define i64 @six(i64 %a, i64 %b, i64 %c, i64 %d, i32 signext %e, i64 %f) {
           %e64 = sext i32 %e to i64
           %s = add i64 %a, %e64
           %t = add i64 %s, %f
           ret i64 %t
         }
         define i64 @caller(ptr %fp) {
           %r = call i64 @six(i64 1, i64 2, i64 3, i64 4, i32 signext -5, i64 6)
           %q = call i64 %fp(i64 1, i64 2, i64 3, i64 4, i32 signext 5, i64 6)
           %s = add i64 %r, %q
           ret i64 %s
         }",
    );
    assert!(
        ir.contains("define i64 @six(i64 %0, i64 %1, i64 %2, i64 %3, ptr %4)"),
        "{ir}"
    );
    let six = body(&ir, "six");
    assert!(
        six.contains("load i32, ptr %4") && six.contains("getelementptr i8, ptr %4, i64 8"),
        "{six}"
    );
    let caller = body(&ir, "caller");
    assert!(
        caller.contains("store i64 -5"),
        "the fifth argument is widened:\n{caller}"
    );
    assert!(
        caller.contains("call i64 @six(i64 1, i64 2, i64 3, i64 4, ptr"),
        "{caller}"
    );
    assert!(
        caller.contains("call i64 %fp(i64 1, i64 2, i64 3, i64 4, ptr"),
        "through a pointer:\n{caller}"
    );
}

#[test]
fn i128_parameters_count_two_registers() {
    let ir = lowered(
        "define i64 @f(i64 %a, i64 %b, i64 %c, i128 %d) {
           %t = trunc i128 %d to i64
           %s = add i64 %a, %t
           ret i64 %s
         }",
    );
    // 3 + 2 registers: five, no block.
    assert!(
        ir.contains("define i64 @f(i64 %a, i64 %b, i64 %c, i128 %d)"),
        "{ir}"
    );
    let ir = lowered(
        "define i64 @g(i64 %a, i64 %b, i64 %c, i64 %x, i128 %d) {
           %t = trunc i128 %d to i64
           ret i64 %t
         }",
    );
    assert!(
        ir.contains("define i64 @g(i64 %0, i64 %1, i64 %2, i64 %3, ptr %4)"),
        "{ir}"
    );
}

#[test]
fn variadic_calls_build_a_va_block_and_definitions_read_it() {
    let ir = lowered(
        "declare i32 @printf(ptr, ...)
         @fmt = private constant [3 x i8] c\"%d\\00\"
         define i32 @caller() {
           %r = call i32 (ptr, ...) @printf(ptr @fmt, i32 7, double 1.5, i128 3)
           %z = call i32 (ptr, ...) @printf(ptr @fmt)
           ret i32 %r
         }
         declare void @llvm.va_start.p0(ptr)
         declare void @llvm.va_copy.p0(ptr, ptr)
         declare void @llvm.va_end.p0(ptr)
         define i32 @sum(i32 %n, ...) {
           %ap = alloca ptr
           %cp = alloca ptr
           call void @llvm.va_start.p0(ptr %ap)
           call void @llvm.va_copy.p0(ptr %cp, ptr %ap)
           %x = va_arg ptr %cp, i32
           call void @llvm.va_end.p0(ptr %cp)
           call void @llvm.va_end.p0(ptr %ap)
           ret i32 %x
         }",
    );
    assert!(ir.contains("declare i32 @printf(ptr, ptr)"), "{ir}");
    assert!(ir.contains("define i32 @sum(i32 %0, ptr %1)"), "{ir}");
    let caller = body(&ir, "caller");
    assert!(caller.contains("store i64 7"), "{caller}");
    assert!(caller.contains("store double 1.5"), "{caller}");
    assert!(caller.contains("store i128 3"), "{caller}");
    assert_eq!(
        caller.matches("call i32 @printf(ptr @fmt, ptr").count(),
        2,
        "{caller}"
    );
    let sum = body(&ir, "sum");
    assert!(
        !sum.contains("va_arg") && !sum.contains("llvm.va_"),
        "{sum}"
    );
    assert!(
        sum.contains("@__bpf_ub_trap(i64 257)"),
        "va_arg checks the end:\n{sum}"
    );
    assert!(
        ir.contains(".bpf_repl.abi")
            && ir.contains("printf")
            && ir.contains("\\09.asciz \\22sum\\22"),
        "marker:\n{ir}"
    );
}

#[test]
fn kernel_helper_calls_by_id_keep_registers() {
    let ir = lowered(
        "define i64 @k(ptr %fmt) {
           %r = call i64 (ptr, i32, ...) inttoptr (i64 6 to ptr)(ptr %fmt, i32 4, i64 1, i64 2)
           ret i64 %r
         }",
    );
    assert!(
        body(&ir, "k").contains("inttoptr (i64 6 to ptr)(ptr %fmt, i32 4, i64 1, i64 2)"),
        "{ir}"
    );
    let bc = bitcode(
        "define i64 @k(ptr %fmt) {
           %r = call i64 (ptr, i32, ...) inttoptr (i64 6 to ptr)(ptr %fmt, i32 4, i64 1, i64 2, i64 3, i64 4)
           ret i64 %r
         }",
    );
    let e = lower(&bc, &o0()).unwrap_err();
    assert!(
        e.to_string()
            .contains("kernel helper #6 with 6 argument registers"),
        "{e}"
    );
}

#[test]
fn byval_arguments_are_copied_by_the_caller_and_sret_is_a_plain_pointer() {
    let ir = lowered(
        "%big = type { [5 x i64] }
         define void @mk(ptr sret(%big) align 8 %out, i64 %x) {
           store i64 %x, ptr %out
           ret void
         }
         define i64 @take(ptr byval(%big) align 8 %b) {
           store i64 9, ptr %b
           %v = load i64, ptr %b
           ret i64 %v
         }
         define i64 @caller() {
           %b = alloca %big
           call void @mk(ptr sret(%big) align 8 %b, i64 3)
           %r = call i64 @take(ptr byval(%big) align 8 %b)
           ret i64 %r
         }",
    );
    assert!(!ir.contains("sret") && !ir.contains("byval"), "{ir}");
    let caller = body(&ir, "caller");
    assert!(
        caller.contains("@llvm.memcpy") || caller.contains("@__bpf_memcpy"),
        "the caller copies:\n{caller}"
    );
}

#[test]
fn aggregate_results_are_returned_through_a_pointer() {
    let ir = lowered(
        "define { i64, i64 } @pair(i64 %a) {
           %1 = insertvalue { i64, i64 } poison, i64 %a, 0
           %2 = insertvalue { i64, i64 } %1, i64 %a, 1
           ret { i64, i64 } %2
         }
         define i64 @use() {
           %p = call { i64, i64 } @pair(i64 4)
           %x = extractvalue { i64, i64 } %p, 1
           ret i64 %x
         }",
    );
    assert!(ir.contains("define void @pair(ptr %0, i64 %1)"), "{ir}");
    assert!(body(&ir, "use").contains("call void @pair(ptr"), "{ir}");
}

#[test]
fn large_and_variable_memory_intrinsics_call_helpers_small_ones_stay() {
    let ir = lowered(
        "declare void @llvm.memcpy.p0.p0.i64(ptr, ptr, i64, i1)
         declare void @llvm.memmove.p0.p0.i64(ptr, ptr, i64, i1)
         declare void @llvm.memset.p0.i64(ptr, i8, i64, i1)
         declare i32 @bcmp(ptr, ptr, i64)
         define i32 @f(ptr %a, ptr %b, i64 %n) {
           call void @llvm.memcpy.p0.p0.i64(ptr align 8 %a, ptr align 8 %b, i64 16, i1 false)
           call void @llvm.memcpy.p0.p0.i64(ptr align 8 %a, ptr align 8 %b, i64 4096, i1 false)
           call void @llvm.memmove.p0.p0.i64(ptr %a, ptr %b, i64 %n, i1 false)
           call void @llvm.memset.p0.i64(ptr %a, i8 7, i64 %n, i1 false)
           %c = call i32 @bcmp(ptr %a, ptr %b, i64 %n)
           ret i32 %c
         }",
    );
    let f = body(&ir, "f");
    assert!(
        f.contains("@llvm.memcpy.p0.p0.i64(ptr align 8 %a, ptr align 8 %b, i64 16"),
        "{f}"
    );
    assert!(f.contains("@__bpf_memcpy(ptr %a, ptr %b, i64 4096)"), "{f}");
    assert!(f.contains("@__bpf_memmove(ptr %a, ptr %b, i64 %n)"), "{f}");
    assert!(f.contains("@__bpf_memset(ptr %a, i64 7, i64 %n)"), "{f}");
    assert!(f.contains("call i32 @memcmp("), "{f}");
}

#[test]
fn dynamic_allocas_use_the_alloca_region_released_on_return() {
    let ir = lowered(
        "declare ptr @llvm.stacksave.p0()
         declare void @llvm.stackrestore.p0(ptr)
         declare void @use(ptr)
         define void @vla(i64 %n) {
           %s = call ptr @llvm.stacksave.p0()
           %a = alloca i32, i64 %n
           call void @use(ptr %a)
           call void @llvm.stackrestore.p0(ptr %s)
           ret void
         }
         define void @big() {
           %a = alloca [4096 x i8]
           call void @use(ptr %a)
           ret void
         }",
    );
    let vla = body(&ir, "vla");
    assert!(
        vla.contains("mul i64 %") && vla.contains("@__bpf_alloca(i64"),
        "{vla}"
    );
    assert!(
        vla.contains("@__bpf_stacksave()") && vla.contains("@__bpf_stackrestore(ptr"),
        "{vla}"
    );
    let big = body(&ir, "big");
    assert!(
        big.contains("@__bpf_alloca(i64 4096, i64 1)"),
        "a frame-sized array moves:\n{big}"
    );
    assert!(big.contains("@__bpf_stackrestore"), "{big}");
}

#[test]
fn traps_become_ub_trap_calls_with_their_check_number() {
    let ir = lowered(
        "declare void @llvm.ubsantrap(i8)
         declare void @llvm.trap()
         define i32 @f(i32 %x) {
           %z = icmp eq i32 %x, 0
           br i1 %z, label %bad, label %t
         bad:
           call void @llvm.ubsantrap(i8 3)
           unreachable
         t:
           %q = icmp eq i32 %x, 1
           br i1 %q, label %trap, label %ok
         trap:
           call void @llvm.trap()
           unreachable
         ok:
           %d = sdiv i32 10, %x
           ret i32 %d
         }",
    );
    let f = body(&ir, "f");
    assert!(f.contains("call void @__bpf_ub_trap(i64 3)"), "{f}");
    assert!(f.contains("call void @__bpf_ub_trap(i64 256)"), "{f}");
}

#[test]
fn falling_off_the_end_traps_only_with_ub_checks() {
    // clang's unoptimised shape of `int f(int x) { if (x) return 1; }`.
    let src = "define i32 @f(i32 %x) {
           %ret = alloca i32
           %c = icmp ne i32 %x, 0
           br i1 %c, label %then, label %end
         then:
           store i32 1, ptr %ret
           br label %end
         end:
           %v = load i32, ptr %ret
           ret i32 %v
         }
         define i32 @main() {
           %ret = alloca i32
           store i32 0, ptr %ret
           %v = load i32, ptr %ret
           ret i32 %v
         }";
    let bc = bitcode(src);
    let checked = LowerOptions {
        ub_checks: UbChecks::On,
        ..o0()
    };
    let ir = lower_to_ir(&bc, &checked).unwrap();
    assert!(body(&ir, "f").contains("@__bpf_ub_trap(i64 258)"), "{ir}");
    assert!(!body(&ir, "main").contains("__bpf_ub_trap"), "{ir}");
    let unchecked = lower_to_ir(&bc, &o0()).unwrap();
    assert!(!unchecked.contains("__bpf_ub_trap"), "{unchecked}");
}

#[test]
fn strict_mode_refuses_each_construct_by_name() {
    let bc = bitcode(
        "declare i32 @printf(ptr, ...)
         define double @f(double %a, i64 %n) {
           %s = fadd double %a, %a
           %v = alloca i8, i64 %n
           ret double %s
         }
         define i64 @six(i64 %a, i64 %b, i64 %c, i64 %d, i64 %e, i64 %f) {
           ret i64 %f
         }
         define i32 @v(i32 %n, ...) {
           ret i32 %n
         }",
    );
    let strict = LowerOptions {
        mode: Mode::Strict,
        ..o0()
    };
    let Err(LowerError::Unsupported(d)) = lower(&bc, &strict) else {
        panic!("strict mode accepted the module")
    };
    let all: Vec<String> = d.iter().map(|d| d.to_string()).collect();
    let text = all.join("\n");
    for construct in [
        "floating-point addition",
        "variable-length array",
        "6 parameter registers",
        "variadic function definition",
    ] {
        assert!(text.contains(construct), "{construct} not named in\n{text}");
    }
    assert!(all.iter().all(|l| l.contains("--strict-bpf")), "{text}");
    // Full mode compiles the same module.
    lower(&bc, &o0()).unwrap();
}

#[test]
fn float_vectors_are_split_into_elements() {
    let ir = lowered(
        "define <2 x double> @v(<2 x double> %a) {
           %s = fadd <2 x double> %a, %a
           ret <2 x double> %s
         }",
    );
    assert_eq!(body(&ir, "v").matches("@__bpf_f64_add").count(), 2, "{ir}");
}

#[test]
fn unsupported_float_types_are_one_message() {
    let bc = bitcode(
        "define fp128 @q(fp128 %a) {
           %s = fadd fp128 %a, %a
           ret fp128 %s
         }",
    );
    let e = lower(&bc, &o0()).unwrap_err();
    assert!(
        e.to_string()
            .contains("floating-point addition on fp128 is not supported"),
        "{e}"
    );
}

#[test]
fn bad_input_is_an_error_not_a_crash() {
    assert!(matches!(
        lower(b"not bitcode", &o0()),
        Err(LowerError::BadInput(_))
    ));
    let ctx = Context::create();
    let m = ctx.create_module("x86");
    m.set_triple(&inkwell::targets::TargetTriple::create(
        "x86_64-pc-linux-gnu",
    ));
    let bc = m.write_bitcode_to_memory().as_slice().to_vec();
    let e = lower(&bc, &o0()).unwrap_err();
    assert!(e.to_string().contains("not bpf"), "{e}");
}

#[test]
fn atomics_bpf_lacks_become_sequential_code() {
    let ir = lowered(
        "define i64 @f(ptr %p, ptr %q, ptr %c) {
           %a = atomicrmw max ptr %p, i64 5 seq_cst
           %b = atomicrmw add ptr %q, i8 1 seq_cst
           %n = atomicrmw nand ptr %p, i64 3 seq_cst
           %x = cmpxchg ptr %c, i16 1, i16 2 seq_cst seq_cst
           %k = atomicrmw add ptr %p, i64 1 seq_cst
           fence seq_cst
           store atomic i64 1, ptr %p seq_cst, align 8
           %l = load atomic i32, ptr %q acquire, align 4
           %b64 = zext i8 %b to i64
           %s = add i64 %a, %b64
           ret i64 %s
         }",
    );
    let f = body(&ir, "f");
    assert!(
        !f.contains("atomicrmw max")
            && !f.contains("atomicrmw nand")
            && !f.contains("i8 1 seq_cst"),
        "{f}"
    );
    assert!(
        !f.contains("cmpxchg") && !f.contains("fence") && !f.contains("atomic i"),
        "{f}"
    );
    // What BPF has natively stays atomic.
    assert!(f.contains("atomicrmw add ptr %p, i64 1 seq_cst"), "{f}");
}

#[test]
fn constructs_bpf_cannot_express_are_one_message_each() {
    let bc = bitcode(
        "declare ptr @llvm.returnaddress(i32)
         define ptr @ra() {
           %r = call ptr @llvm.returnaddress(i32 0)
           ret ptr %r
         }
         @labels = global ptr null
         define void @la() {
           br label %l
         l:
           store ptr blockaddress(@la, %l), ptr @labels
           ret void
         }
         define i32 @cg(ptr %target) {
           indirectbr ptr %target, [label %a, label %b]
         a:
           ret i32 1
         b:
           ret i32 2
         }",
    );
    let e = lower(&bc, &o0()).unwrap_err().to_string();
    assert!(
        e.contains("__builtin_return_address is not supported"),
        "{e}"
    );
    assert!(
        e.contains("computed goto (`goto *p`) is not supported"),
        "{e}"
    );
}

#[test]
fn unreachable_code_traps_unless_a_noreturn_call_precedes_it() {
    let ir = lowered(
        "declare void @exit(i32) noreturn
         define i32 @f(i32 %x) {
           %c = icmp eq i32 %x, 0
           br i1 %c, label %dead, label %bye
         dead:
           unreachable
         bye:
           call void @exit(i32 1)
           unreachable
         }",
    );
    let f = body(&ir, "f");
    assert_eq!(f.matches("@__bpf_ub_trap(i64 259)").count(), 1, "{f}");
}
