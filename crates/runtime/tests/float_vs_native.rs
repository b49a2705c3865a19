//! The floating-point helpers of docs/abi.md compared bit for bit with
//! native x86-64 code: for each LLVM IR operation the IR stage turns into a
//! helper call (`fadd`, `fcmp olt`, `fptoui`, `llvm.minimum`, ...), this
//! test has clang-19 compile that same operation for the host, loads it and
//! runs both on random bit patterns — NaNs with payloads (quiet and
//! signalling), infinities, subnormals, ±0, values at the edges of every
//! integer range. Needs clang-19 (fails, never skips, without it).

mod common;

use common::Env;
use proptest::prelude::*;
use std::collections::HashMap;
use std::ffi::{c_void, CString};
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

const INSTALL_HINT: &str =
    "clang-19 not found: install it with `apt-get update && apt-get install -y clang-19 llvm-19`";

/// LLVM FCmp predicate names by number (docs/abi.md).
const PREDICATES: [&str; 16] = [
    "false", "oeq", "ogt", "oge", "olt", "ole", "one", "ord", "uno", "ueq", "ugt", "uge", "ult",
    "ule", "une", "true",
];

/// Unary intrinsics with a helper of the same suffix.
const UNARY_INTRINSICS: [&str; 8] = [
    "sqrt",
    "floor",
    "ceil",
    "trunc",
    "round",
    "rint",
    "nearbyint",
    "roundeven",
];

/// Binary intrinsics with a helper of the same suffix.
const BINARY_INTRINSICS: [&str; 4] = ["minnum", "maxnum", "minimum", "maximum"];

/// The oracle module: every operation as a function of its natural C
/// type (`double f64_fadd(double a, double b) { return a + b; }`), so
/// registers are assigned as in C code. (Which NaN `a + b` returns when both
/// operands are NaNs depends on register assignment: `addsd` keeps its
/// destination's. As compiled from C, that is the first operand's.)
fn oracle_ir() -> String {
    let mut ir = String::new();
    for (ty, w) in [("double", "f64"), ("float", "f32")] {
        for op in ["fadd", "fsub", "fmul", "fdiv", "frem"] {
            ir += &format!(
                "define {ty} @{w}_{op}({ty} %a, {ty} %b) {{\n%r = {op} {ty} %a, %b\nret {ty} %r\n}}\n"
            );
        }
        for (p, name) in PREDICATES.iter().enumerate() {
            ir += &format!(
                "define i64 @{w}_cmp{p}({ty} %a, {ty} %b) {{\n%c = fcmp {name} {ty} %a, %b\n\
                 %r = zext i1 %c to i64\nret i64 %r\n}}\n"
            );
        }
        for f in UNARY_INTRINSICS {
            ir += &format!(
                "define {ty} @{w}_{f}({ty} %a) {{\n%r = call {ty} @llvm.{f}.{w}({ty} %a)\nret {ty} %r\n}}\n"
            );
        }
        for f in BINARY_INTRINSICS {
            ir += &format!(
                "define {ty} @{w}_{f}({ty} %a, {ty} %b) {{\n\
                 %r = call {ty} @llvm.{f}.{w}({ty} %a, {ty} %b)\nret {ty} %r\n}}\n"
            );
        }
        ir += &format!(
            "define {ty} @{w}_fma({ty} %a, {ty} %b, {ty} %c) {{\n\
             %r = call {ty} @llvm.fma.{w}({ty} %a, {ty} %b, {ty} %c)\nret {ty} %r\n}}\n"
        );
        for (op, name) in [("fptosi", "to_i64"), ("fptoui", "to_u64")] {
            ir += &format!(
                "define i64 @{w}_{name}({ty} %a) {{\n%r = {op} {ty} %a to i64\nret i64 %r\n}}\n"
            );
        }
        for (op, name) in [("sitofp", "from_i64"), ("uitofp", "from_u64")] {
            ir += &format!(
                "define {ty} @{w}_{name}(i64 %a) {{\n%r = {op} i64 %a to {ty}\nret {ty} %r\n}}\n"
            );
        }
        for (op, name) in [("sitofp", "from_i128"), ("uitofp", "from_u128")] {
            ir += &format!(
                "define {ty} @{w}_{name}(i64 %lo, i64 %hi) {{\n%l = zext i64 %lo to i128\n\
                 %h0 = zext i64 %hi to i128\n%h = shl i128 %h0, 64\n%v = or i128 %l, %h\n\
                 %r = {op} i128 %v to {ty}\nret {ty} %r\n}}\n"
            );
        }
        for (op, name) in [("fptosi", "to_i128"), ("fptoui", "to_u128")] {
            ir += &format!(
                "define void @{w}_{name}({ty} %a, ptr %out) {{\n%r = {op} {ty} %a to i128\n\
                 store i128 %r, ptr %out\nret void\n}}\n"
            );
        }
    }
    ir +=
        "define double @f32_to_f64(float %a) {\n%r = fpext float %a to double\nret double %r\n}\n";
    ir +=
        "define float @f64_to_f32(double %a) {\n%r = fptrunc double %a to float\nret float %r\n}\n";
    ir
}

/// How a native oracle function takes and returns its values.
#[derive(Clone, Copy)]
enum Shape {
    /// `double`s (or `float`s) in, the same out.
    Float(usize),
    /// `double`s (or `float`s) in, an integer out.
    FloatToInt(usize),
    /// Integers in, a `double` (or `float`) out.
    IntToFloat(usize),
    /// `double` in, `float` out.
    Narrow,
    /// `float` in, `double` out.
    Widen,
}

/// The compiled oracle, loaded once per test binary.
struct Oracle {
    symbols: HashMap<String, usize>,
}

fn oracle() -> &'static Oracle {
    static ORACLE: OnceLock<Oracle> = OnceLock::new();
    ORACLE.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("float-oracle");
        std::fs::create_dir_all(&dir).unwrap();
        let (src, lib) = (dir.join("oracle.ll"), dir.join("liboracle.so"));
        let ir = oracle_ir();
        std::fs::write(&src, &ir).unwrap();
        let out = Command::new("clang-19")
            .args(["-O2", "-shared", "-fPIC", "-Wno-override-module", "-o"])
            .arg(&lib)
            .arg(&src)
            .arg("-lm")
            .output();
        let out = match out {
            Ok(o) => o,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!("{INSTALL_HINT}"),
            Err(e) => panic!("running clang-19: {e}"),
        };
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let path = CString::new(lib.to_str().unwrap()).unwrap();
        // SAFETY: loading a library this test just built from IR that has
        // no constructors.
        let handle = unsafe { libc::dlopen(path.as_ptr(), libc::RTLD_NOW) };
        assert!(!handle.is_null(), "dlopen {}", lib.display());
        let mut symbols = HashMap::new();
        for line in ir.lines().filter(|l| l.starts_with("define")) {
            let name = line.split('@').nth(1).unwrap().split('(').next().unwrap();
            let c = CString::new(name).unwrap();
            // SAFETY: looking up a symbol of a live handle.
            let sym = unsafe { libc::dlsym(handle, c.as_ptr()) };
            assert!(!sym.is_null(), "{name}");
            symbols.insert(name.to_string(), sym as usize);
        }
        Oracle { symbols }
    })
}

impl Oracle {
    fn sym(&self, name: &str) -> *const c_void {
        *self
            .symbols
            .get(name)
            .unwrap_or_else(|| panic!("no {name}")) as *const c_void
    }

    /// Calls a native function of `shape` in format `w` on register
    /// values (bit patterns; a float's in the low half); the result as a
    /// register value.
    fn call(&self, name: &str, w: &str, shape: Shape, args: &[u64]) -> u64 {
        let f = self.sym(name);
        let d = |i: usize| f64::from_bits(args[i]);
        let s = |i: usize| f32::from_bits(args[i] as u32);
        // SAFETY: each oracle function has the C signature its shape says
        // (passing and returning floating-point values moves their bits
        // unchanged, signalling NaNs included).
        unsafe {
            use std::mem::transmute as t;
            type P = *const c_void;
            match (shape, w) {
                (Shape::Narrow, _) => {
                    u64::from(t::<P, extern "C" fn(f64) -> f32>(f)(d(0)).to_bits())
                }
                (Shape::Widen, _) => t::<P, extern "C" fn(f32) -> f64>(f)(s(0)).to_bits(),
                (Shape::Float(1), "f64") => t::<P, extern "C" fn(f64) -> f64>(f)(d(0)).to_bits(),
                (Shape::Float(2), "f64") => {
                    t::<P, extern "C" fn(f64, f64) -> f64>(f)(d(0), d(1)).to_bits()
                }
                (Shape::Float(3), "f64") => {
                    t::<P, extern "C" fn(f64, f64, f64) -> f64>(f)(d(0), d(1), d(2)).to_bits()
                }
                (Shape::Float(1), _) => {
                    u64::from(t::<P, extern "C" fn(f32) -> f32>(f)(s(0)).to_bits())
                }
                (Shape::Float(2), _) => {
                    u64::from(t::<P, extern "C" fn(f32, f32) -> f32>(f)(s(0), s(1)).to_bits())
                }
                (Shape::Float(_), _) => u64::from(
                    t::<P, extern "C" fn(f32, f32, f32) -> f32>(f)(s(0), s(1), s(2)).to_bits(),
                ),
                (Shape::FloatToInt(1), "f64") => t::<P, extern "C" fn(f64) -> u64>(f)(d(0)),
                (Shape::FloatToInt(_), "f64") => {
                    t::<P, extern "C" fn(f64, f64) -> u64>(f)(d(0), d(1))
                }
                (Shape::FloatToInt(1), _) => t::<P, extern "C" fn(f32) -> u64>(f)(s(0)),
                (Shape::FloatToInt(_), _) => t::<P, extern "C" fn(f32, f32) -> u64>(f)(s(0), s(1)),
                (Shape::IntToFloat(1), "f64") => {
                    t::<P, extern "C" fn(u64) -> f64>(f)(args[0]).to_bits()
                }
                (Shape::IntToFloat(_), "f64") => {
                    t::<P, extern "C" fn(u64, u64) -> f64>(f)(args[0], args[1]).to_bits()
                }
                (Shape::IntToFloat(1), _) => {
                    u64::from(t::<P, extern "C" fn(u64) -> f32>(f)(args[0]).to_bits())
                }
                (Shape::IntToFloat(_), _) => {
                    u64::from(t::<P, extern "C" fn(u64, u64) -> f32>(f)(args[0], args[1]).to_bits())
                }
            }
        }
    }

    /// Calls a native `void f(T a, ptr out)` that stores an i128.
    fn call_out128(&self, name: &str, w: &str, a: u64) -> u128 {
        let f = self.sym(name);
        let mut out = [0u8; 16];
        // SAFETY: the function takes a double (float) and writes 16 bytes
        // through the pointer.
        unsafe {
            use std::mem::transmute as t;
            if w == "f64" {
                t::<*const c_void, extern "C" fn(f64, *mut u8)>(f)(
                    f64::from_bits(a),
                    out.as_mut_ptr(),
                )
            } else {
                t::<*const c_void, extern "C" fn(f32, *mut u8)>(f)(
                    f32::from_bits(a as u32),
                    out.as_mut_ptr(),
                )
            }
        };
        u128::from_le_bytes(out)
    }
}

/// Compares the helper `__bpf_<helper>` with the native `<native>`.
fn same(
    env: &mut Env,
    helper: &str,
    native: &str,
    w: &str,
    shape: Shape,
    args: &[u64],
) -> Result<(), TestCaseError> {
    let expected = oracle().call(native, w, shape, args);
    let ours = env.ok(&format!("__bpf_{helper}"), args);
    prop_assert_eq!(
        ours,
        expected,
        "{}({:#x?}): ours {:#x}, native {:#x}",
        native,
        args,
        ours,
        expected
    );
    Ok(())
}

/// Bit patterns of doubles, weighted toward the hard ones.
fn f64_bits() -> impl Strategy<Value = u64> {
    let sign = |b: bool| u64::from(b) << 63;
    prop_oneof![
        3 => any::<u64>(),
        // NaNs: quiet and signalling, any payload, either sign.
        1 => (1u64..1 << 52, any::<bool>()).prop_map(move |(m, s)| 0x7ff0_0000_0000_0000 | m | sign(s)),
        // Subnormals and zeros.
        1 => (0u64..1 << 52, any::<bool>()).prop_map(move |(m, s)| m | sign(s)),
        // Around the limits of integer conversions and rounding.
        2 => (proptest::sample::select(vec![
            0.5, 1.0, 1.5, 2.5, 4503599627370496.0, 9.223372036854776e18,
            1.8446744073709552e19, 1.7014118346046923e38, 3.402823669209385e38, 1e300,
            f64::MAX, f64::MIN_POSITIVE, f64::INFINITY,
        ]), -4i64..5, any::<bool>())
            .prop_map(move |(x, ulps, s)| (f64::to_bits(x) as i64 + ulps) as u64 | sign(s)),
        // Small values with fractions.
        2 => (-10_000i64..10_000, 0i32..4).prop_map(|(n, k)| (n as f64 / 4f64.powi(k)).to_bits()),
    ]
}

/// Bit patterns of floats, with junk in the upper half of the register.
fn f32_bits() -> impl Strategy<Value = u64> {
    let sign = |b: bool| u32::from(b) << 31;
    let bits = prop_oneof![
        3 => any::<u32>(),
        1 => (1u32..1 << 23, any::<bool>()).prop_map(move |(m, s)| 0x7f80_0000 | m | sign(s)),
        1 => (0u32..1 << 23, any::<bool>()).prop_map(move |(m, s)| m | sign(s)),
        2 => (proptest::sample::select(vec![
            0.5f32, 1.0, 1.5, 2.5, 8388608.0, 9.223372e18, 1.8446744e19, 1.7014118e38,
            f32::MAX, f32::MIN_POSITIVE, f32::INFINITY,
        ]), -4i32..5, any::<bool>())
            .prop_map(move |(x, ulps, s)| (f32::to_bits(x) as i32 + ulps) as u32 | sign(s)),
        2 => (-10_000i32..10_000, 0i32..4).prop_map(|(n, k)| (n as f32 / 4f32.powi(k)).to_bits()),
    ];
    (
        bits,
        prop_oneof![Just(0u64), any::<u32>().prop_map(u64::from)],
    )
        .prop_map(|(b, junk)| u64::from(b) | junk << 32)
}

fn int_bits() -> impl Strategy<Value = u64> {
    prop_oneof![
        any::<u64>(),
        any::<i32>().prop_map(|v| v as i64 as u64),
        (0u32..64, -3i64..4).prop_map(|(k, d)| (1u64 << k).wrapping_add(d as u64)),
    ]
}

/// The operations of one format on operands `a`, `b`, `c`.
fn all_ops(env: &mut Env, w: &str, a: u64, b: u64, c: u64) -> Result<(), TestCaseError> {
    for op in ["add", "sub", "mul", "div", "rem"] {
        let (helper, native) = (format!("{w}_{op}"), format!("{w}_f{op}"));
        same(env, &helper, &native, w, Shape::Float(2), &[a, b])?;
    }
    for p in 0..16u64 {
        let expected = oracle().call(&format!("{w}_cmp{p}"), w, Shape::FloatToInt(2), &[a, b]);
        let ours = env.ok(&format!("__bpf_{w}_cmp"), &[a, b, p]);
        prop_assert_eq!(
            ours,
            expected,
            "{} cmp {} ({:#x}, {:#x})",
            w,
            PREDICATES[p as usize],
            a,
            b
        );
    }
    for f in UNARY_INTRINSICS {
        let name = format!("{w}_{f}");
        same(env, &name, &name, w, Shape::Float(1), &[a])?;
    }
    for f in BINARY_INTRINSICS {
        let name = format!("{w}_{f}");
        same(env, &name, &name, w, Shape::Float(2), &[a, b])?;
    }
    let name = format!("{w}_fma");
    same(env, &name, &name, w, Shape::Float(3), &[a, b, c])?;
    for f in ["to_i64", "to_u64"] {
        let name = format!("{w}_{f}");
        same(env, &name, &name, w, Shape::FloatToInt(1), &[a])?;
    }
    Ok(())
}

/// 128-bit conversions: exact where the value fits; out of range the
/// signed conversion gives i128::MIN and the unsigned one what the signed
/// one gives (native code calls libgcc there, whose out-of-range results
/// are its own).
fn to_128(env: &mut Env, w: &str, a: u64) -> Result<(), TestCaseError> {
    let x = if w == "f64" {
        f64::from_bits(a)
    } else {
        f64::from(f32::from_bits(a as u32))
    };
    let two127 = 1.7014118346046923e38;
    let signed_fits = x >= -two127 && x < two127;
    let unsigned_fits = x > -1.0 && x < 2.0 * two127;
    let native = |name: &str| oracle().call_out128(&format!("{w}_{name}"), w, a);
    let signed = if signed_fits {
        native("to_i128")
    } else {
        1 << 127
    };
    let unsigned = if unsigned_fits {
        native("to_u128")
    } else {
        signed
    };
    let out = env.data(&[0; 16]);
    for (name, expected) in [("to_i128", signed), ("to_u128", unsigned)] {
        env.ok(&format!("__bpf_{w}_{name}"), &[out, a]);
        let ours = u128::from_le_bytes(env.mem.read_bytes(out, 16).unwrap().try_into().unwrap());
        prop_assert_eq!(ours, expected, "{}_{}({:#x})", w, name, a);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6000))]

    #[test]
    fn double_operations_match_native(a in f64_bits(), b in f64_bits(), c in f64_bits()) {
        let mut env = Env::new();
        all_ops(&mut env, "f64", a, b, c)?;
        same(&mut env, "f64_to_f32", "f64_to_f32", "f64", Shape::Narrow, &[a])?;
        to_128(&mut env, "f64", a)?;
    }

    #[test]
    fn float_operations_match_native(a in f32_bits(), b in f32_bits(), c in f32_bits()) {
        let mut env = Env::new();
        all_ops(&mut env, "f32", a, b, c)?;
        same(&mut env, "f32_to_f64", "f32_to_f64", "f32", Shape::Widen, &[a])?;
        to_128(&mut env, "f32", a)?;
    }

    #[test]
    fn integer_conversions_match_native(x in int_bits(), hi in int_bits()) {
        let mut env = Env::new();
        for w in ["f64", "f32"] {
            for (f, args) in [("from_i64", vec![x]), ("from_u64", vec![x]), ("from_i128", vec![x, hi]), ("from_u128", vec![x, hi])] {
                let name = format!("{w}_{f}");
                same(&mut env, &name, &name, w, Shape::IntToFloat(args.len()), &args)?;
            }
        }
    }
}

/// Results of `float` helpers have a zero upper half, whatever came in.
#[test]
fn float_results_clear_the_upper_half() {
    let mut env = Env::new();
    let junk = 0xdead_beef_0000_0000;
    let one = u64::from(1f32.to_bits());
    assert_eq!(
        env.ok("__bpf_f32_add", &[one | junk, one | junk]),
        u64::from(2f32.to_bits())
    );
    assert_eq!(env.ok("__bpf_f32_sqrt", &[one | junk]), one);
    assert_eq!(
        env.ok("__bpf_f64_to_f32", &[2f64.to_bits()]),
        u64::from(2f32.to_bits())
    );
}

#[test]
fn bad_predicates_and_pointers_are_faults() {
    let mut env = Env::new();
    common::assert_fault(
        env.call("__bpf_f64_cmp", &[0, 0, 16]),
        &["__bpf_f64_cmp", "16", "predicate"],
    );
    for bad in common::BAD_POINTERS {
        common::assert_mem_error(env.call("__bpf_f64_to_i128", &[bad, 0]), bad);
    }
    let ro = env.literal(b"0123456789abcdef");
    common::assert_mem_error(env.call("__bpf_f32_to_u128", &[ro, 0]), ro);
}
