//! `<math.h>` helpers compared bit for bit with the host's glibc: each
//! helper, given argument registers as a BPF call passes them (a `double`'s
//! bits, a `float`'s bits in the low half, an `int` in the low 32 bits),
//! must return what glibc's function of the same name returns for the same
//! values. `l` variants are the `double` functions (`long double` is
//! `double` on BPF). `nexttowardf` takes a `long double`, so its oracle is
//! C compiled for the host by clang-19.

mod common;

use common::{assert_mem_error, Env, BAD_POINTERS};
use proptest::prelude::*;
use std::ffi::{c_char, c_int, c_long, c_void, CString};
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// Argument and result types of a math function.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Sig {
    D1,
    D2,
    D3,
    F1,
    F2,
    F3,
    /// `(double, int) -> double` and the float form.
    DInt,
    FInt,
    /// `(double, long) -> double`.
    DLong,
    FLong,
    /// `double -> int`.
    DToInt,
    FToInt,
    /// `double -> long`.
    DToLong,
    FToLong,
}

const D1: &[&str] = &[
    "acos",
    "asin",
    "atan",
    "cos",
    "sin",
    "tan",
    "acosh",
    "asinh",
    "atanh",
    "cosh",
    "sinh",
    "tanh",
    "exp",
    "exp2",
    "expm1",
    "log",
    "log10",
    "log1p",
    "log2",
    "logb",
    "cbrt",
    "fabs",
    "sqrt",
    "erf",
    "erfc",
    "lgamma",
    "tgamma",
    "ceil",
    "floor",
    "nearbyint",
    "rint",
    "round",
    "trunc",
    "roundeven",
];
const D2: &[&str] = &[
    "atan2",
    "pow",
    "hypot",
    "fmod",
    "remainder",
    "copysign",
    "nextafter",
    "fdim",
    "fmax",
    "fmin",
];

/// Every (helper, glibc function, signature) pair with plain arguments.
fn functions() -> Vec<(String, String, Sig)> {
    let mut v = Vec::new();
    let mut add = |d: &str, sig_d: Sig, sig_f: Sig| {
        v.push((d.to_string(), d.to_string(), sig_d));
        v.push((format!("{d}f"), format!("{d}f"), sig_f));
        v.push((format!("{d}l"), d.to_string(), sig_d));
    };
    for d in D1 {
        add(d, Sig::D1, Sig::F1);
    }
    for d in D2 {
        add(d, Sig::D2, Sig::F2);
    }
    add("fma", Sig::D3, Sig::F3);
    add("ldexp", Sig::DInt, Sig::FInt);
    add("scalbn", Sig::DInt, Sig::FInt);
    add("scalbln", Sig::DLong, Sig::FLong);
    add("ilogb", Sig::DToInt, Sig::FToInt);
    add("lrint", Sig::DToLong, Sig::FToLong);
    add("lround", Sig::DToLong, Sig::FToLong);
    // llrint/llround: long long is long on both sides.
    v.push(("llrint".into(), "llrint".into(), Sig::DToLong));
    v.push(("llrintf".into(), "llrintf".into(), Sig::FToLong));
    v.push(("llround".into(), "llround".into(), Sig::DToLong));
    v.push(("llroundf".into(), "llroundf".into(), Sig::FToLong));
    v.push(("nexttoward".into(), "nextafter".into(), Sig::D2));
    v
}

/// glibc's libm, opened by this test itself.
fn glibc(name: &str) -> *mut c_void {
    static HANDLE: OnceLock<usize> = OnceLock::new();
    let h = *HANDLE.get_or_init(|| {
        // SAFETY: opening the system libm.
        unsafe { libc::dlopen(c"libm.so.6".as_ptr(), libc::RTLD_NOW) as usize }
    });
    assert_ne!(h, 0, "libm.so.6");
    let c = CString::new(name).unwrap();
    // SAFETY: dlsym on a live handle.
    let sym = unsafe { libc::dlsym(h as *mut c_void, c.as_ptr()) };
    assert!(!sym.is_null(), "{name}");
    sym
}

/// glibc's result for register values `r` (bit patterns, ints as C reads them).
fn host(name: &str, sig: Sig, r: &[u64]) -> u64 {
    let f = glibc(name);
    let d = |i: usize| f64::from_bits(r[i]);
    let s = |i: usize| f32::from_bits(r[i] as u32);
    let int = |i: usize| r[i] as u32 as i32;
    // SAFETY: `f` is glibc's function with the C signature `sig` names.
    unsafe {
        use std::mem::transmute as t;
        type P = *mut c_void;
        match sig {
            Sig::D1 => t::<P, extern "C" fn(f64) -> f64>(f)(d(0)).to_bits(),
            Sig::D2 => t::<P, extern "C" fn(f64, f64) -> f64>(f)(d(0), d(1)).to_bits(),
            Sig::D3 => t::<P, extern "C" fn(f64, f64, f64) -> f64>(f)(d(0), d(1), d(2)).to_bits(),
            Sig::F1 => u64::from(t::<P, extern "C" fn(f32) -> f32>(f)(s(0)).to_bits()),
            Sig::F2 => u64::from(t::<P, extern "C" fn(f32, f32) -> f32>(f)(s(0), s(1)).to_bits()),
            Sig::F3 => u64::from(
                t::<P, extern "C" fn(f32, f32, f32) -> f32>(f)(s(0), s(1), s(2)).to_bits(),
            ),
            Sig::DInt => t::<P, extern "C" fn(f64, c_int) -> f64>(f)(d(0), int(1)).to_bits(),
            Sig::FInt => {
                u64::from(t::<P, extern "C" fn(f32, c_int) -> f32>(f)(s(0), int(1)).to_bits())
            }
            Sig::DLong => {
                t::<P, extern "C" fn(f64, c_long) -> f64>(f)(d(0), r[1] as c_long).to_bits()
            }
            Sig::FLong => u64::from(
                t::<P, extern "C" fn(f32, c_long) -> f32>(f)(s(0), r[1] as c_long).to_bits(),
            ),
            Sig::DToInt => t::<P, extern "C" fn(f64) -> c_int>(f)(d(0)) as i64 as u64,
            Sig::FToInt => t::<P, extern "C" fn(f32) -> c_int>(f)(s(0)) as i64 as u64,
            Sig::DToLong => t::<P, extern "C" fn(f64) -> c_long>(f)(d(0)) as u64,
            Sig::FToLong => t::<P, extern "C" fn(f32) -> c_long>(f)(s(0)) as u64,
        }
    }
}

fn double_bits() -> impl Strategy<Value = u64> {
    prop_oneof![
        3 => any::<u64>(),
        3 => (-1000.0f64..1000.0).prop_map(f64::to_bits),
        2 => (-5.0f64..5.0).prop_map(f64::to_bits),
        1 => (-1000i64..1000).prop_map(|n| (n as f64 / 2.0).to_bits()),
        1 => proptest::sample::select(vec![
            0.0f64, -0.0, 1.0, -1.0, f64::INFINITY, f64::NEG_INFINITY, f64::NAN, -f64::NAN,
            f64::MAX, f64::MIN_POSITIVE, 1e-310, 0.5, 710.0, -745.0, 171.6,
        ]).prop_map(f64::to_bits),
        1 => (1u64..1 << 52).prop_map(|m| 0x7ff0_0000_0000_0000 | m),
    ]
}

/// A float register: the float's bits, sometimes with junk above them.
fn float_reg() -> impl Strategy<Value = u64> {
    let bits = prop_oneof![
        3 => any::<u32>(),
        3 => (-100.0f32..100.0).prop_map(f32::to_bits),
        1 => proptest::sample::select(vec![0.0f32, -0.0, 1.0, f32::INFINITY, f32::NAN, f32::MAX])
            .prop_map(f32::to_bits),
        1 => (1u32..1 << 23).prop_map(|m| 0x7f80_0000 | m),
    ];
    (
        bits,
        prop_oneof![Just(0u64), any::<u32>().prop_map(u64::from)],
    )
        .prop_map(|(b, junk)| u64::from(b) | junk << 32)
}

fn int_reg() -> impl Strategy<Value = u64> {
    prop_oneof![
        (-1100i64..1100).prop_map(|v| v as u64),
        any::<u64>(),
        any::<i32>().prop_map(|v| v as u32 as u64),
    ]
}

/// Argument registers for `sig` drawn from `d`, `f` and `i`.
fn args_for(sig: Sig, d: [u64; 3], f: [u64; 3], i: u64) -> Vec<u64> {
    match sig {
        Sig::D1 | Sig::DToInt | Sig::DToLong => vec![d[0]],
        Sig::D2 => vec![d[0], d[1]],
        Sig::D3 => d.to_vec(),
        Sig::F1 | Sig::FToInt | Sig::FToLong => vec![f[0]],
        Sig::F2 => vec![f[0], f[1]],
        Sig::F3 => f.to_vec(),
        Sig::DInt | Sig::DLong => vec![d[0], i],
        Sig::FInt | Sig::FLong => vec![f[0], i],
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    /// Every function, each case on fresh random arguments.
    #[test]
    fn math_functions_match_glibc(
        d in proptest::array::uniform3(double_bits()),
        f in proptest::array::uniform3(float_reg()),
        i in int_reg(),
    ) {
        let mut env = Env::new();
        for (helper, name, sig) in functions() {
            let args = args_for(sig, d, f, i);
            let ours = env.ok(&helper, &args);
            let expected = host(&name, sig, &args);
            prop_assert_eq!(ours, expected, "{}({:#x?})", helper, args);
        }
    }

    #[test]
    fn out_parameters_match_glibc(x in double_bits(), y in double_bits(), fx in float_reg(), fy in float_reg()) {
        let mut env = Env::new();
        let out = env.data(&[0xaa; 8]);
        let (xd, yd) = (f64::from_bits(x), f64::from_bits(y));
        let (xf, yf) = (f32::from_bits(fx as u32), f32::from_bits(fy as u32));
        // What glibc leaves unwritten keeps its old value on both sides.
        let mut e: c_int;
        let mut di: f64;
        let mut fi: f32;
        // SAFETY: glibc functions with these signatures; the out-pointers
        // point at live locals.
        unsafe {
            use std::mem::transmute as t;
            type P = *mut c_void;
            for name in ["frexp", "frexpl"] {
                e = env.mem.load(out, 4).unwrap() as c_int;
                let r = t::<P, extern "C" fn(f64, *mut c_int) -> f64>(glibc("frexp"))(xd, &mut e);
                prop_assert_eq!(env.ok(name, &[x, out]), r.to_bits());
                prop_assert_eq!(env.mem.load(out, 4).unwrap(), e as u32 as u64);
            }
            e = env.mem.load(out, 4).unwrap() as c_int;
            let r = t::<P, extern "C" fn(f32, *mut c_int) -> f32>(glibc("frexpf"))(xf, &mut e);
            prop_assert_eq!(env.ok("frexpf", &[fx, out]), u64::from(r.to_bits()));
            prop_assert_eq!(env.mem.load(out, 4).unwrap(), e as u32 as u64);
            for name in ["modf", "modfl"] {
                di = f64::from_bits(env.mem.load(out, 8).unwrap());
                let r = t::<P, extern "C" fn(f64, *mut f64) -> f64>(glibc("modf"))(xd, &mut di);
                prop_assert_eq!(env.ok(name, &[x, out]), r.to_bits());
                prop_assert_eq!(env.mem.load(out, 8).unwrap(), di.to_bits());
            }
            env.mem.store(out, 8, u64::MAX).unwrap();
            fi = f32::from_bits(env.mem.load(out, 4).unwrap() as u32);
            let r = t::<P, extern "C" fn(f32, *mut f32) -> f32>(glibc("modff"))(xf, &mut fi);
            prop_assert_eq!(env.ok("modff", &[fx, out]), u64::from(r.to_bits()));
            // Exactly 4 bytes are written.
            prop_assert_eq!(env.mem.load(out, 8).unwrap(), 0xffff_ffff_0000_0000 | u64::from(fi.to_bits()));
            for name in ["remquo", "remquol"] {
                e = env.mem.load(out, 4).unwrap() as c_int;
                let r = t::<P, extern "C" fn(f64, f64, *mut c_int) -> f64>(glibc("remquo"))(xd, yd, &mut e);
                prop_assert_eq!(env.ok(name, &[x, y, out]), r.to_bits());
                prop_assert_eq!(env.mem.load(out, 4).unwrap(), e as u32 as u64);
            }
            e = env.mem.load(out, 4).unwrap() as c_int;
            let r = t::<P, extern "C" fn(f32, f32, *mut c_int) -> f32>(glibc("remquof"))(xf, yf, &mut e);
            prop_assert_eq!(env.ok("remquof", &[fx, fy, out]), u64::from(r.to_bits()));
            prop_assert_eq!(env.mem.load(out, 4).unwrap(), e as u32 as u64);
            e = env.mem.load(out, 4).unwrap() as c_int;
            let r = t::<P, extern "C" fn(f64, *mut c_int) -> f64>(glibc("lgamma_r"))(xd, &mut e);
            prop_assert_eq!(env.ok("lgamma_r", &[x, out]), r.to_bits());
            prop_assert_eq!(env.mem.load(out, 4).unwrap(), e as u32 as u64);
            prop_assert_eq!(env.ok("lgamma", &[x]), r.to_bits());
            e = env.mem.load(out, 4).unwrap() as c_int;
            let r = t::<P, extern "C" fn(f32, *mut c_int) -> f32>(glibc("lgammaf_r"))(xf, &mut e);
            prop_assert_eq!(env.ok("lgammaf_r", &[fx, out]), u64::from(r.to_bits()));
            prop_assert_eq!(env.mem.load(out, 4).unwrap(), e as u32 as u64);
        }
    }

    #[test]
    fn nexttowardf_matches_native(x in float_reg(), y in double_bits()) {
        let native = nexttowardf_native();
        let expected = native(f32::from_bits(x as u32), f64::from_bits(y));
        let mut env = Env::new();
        prop_assert_eq!(env.ok("nexttowardf", &[x, y]), u64::from(expected.to_bits()));
    }

    #[test]
    fn nan_tags_match_glibc(tag in "[0-9a-zA-Z_x()+ -]{0,12}") {
        let mut env = Env::new();
        let t = env.cstr(tag.as_bytes());
        let c = CString::new(tag.clone()).unwrap();
        // SAFETY: glibc's nan/nanf on a NUL-terminated string.
        let (d, f) = unsafe {
            use std::mem::transmute as tr;
            type P = *mut c_void;
            (
                tr::<P, extern "C" fn(*const c_char) -> f64>(glibc("nan"))(c.as_ptr()),
                tr::<P, extern "C" fn(*const c_char) -> f32>(glibc("nanf"))(c.as_ptr()),
            )
        };
        prop_assert_eq!(env.ok("nan", &[t]), d.to_bits(), "{:?}", tag);
        prop_assert_eq!(env.ok("nanl", &[t]), d.to_bits(), "{:?}", tag);
        prop_assert_eq!(env.ok("nanf", &[t]), u64::from(f.to_bits()), "{:?}", tag);
    }
}

/// `float nexttowardf(float, long double)` compiled natively (x86-64's
/// `long double` is 80 bits; a `double` converts to it exactly).
fn nexttowardf_native() -> extern "C" fn(f32, f64) -> f32 {
    static F: OnceLock<usize> = OnceLock::new();
    let f = *F.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("math-oracle");
        std::fs::create_dir_all(&dir).unwrap();
        let (src, lib) = (dir.join("ntf.c"), dir.join("libntf.so"));
        std::fs::write(
            &src,
            "#include <math.h>\nfloat ntf(float x, double y) { return nexttowardf(x, y); }\n",
        )
        .unwrap();
        let out = Command::new("clang-19")
            .args(["-O2", "-shared", "-fPIC", "-o"])
            .arg(&lib)
            .arg(&src)
            .arg("-lm")
            .output()
            .unwrap_or_else(|e| {
                panic!("clang-19: {e} (install it with `apt-get install -y clang-19`)")
            });
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let path = CString::new(lib.to_str().unwrap()).unwrap();
        // SAFETY: a library this test just built; no constructors.
        let h = unsafe { libc::dlopen(path.as_ptr(), libc::RTLD_NOW) };
        assert!(!h.is_null());
        // SAFETY: dlsym on a live handle.
        let sym = unsafe { libc::dlsym(h, c"ntf".as_ptr()) };
        assert!(!sym.is_null());
        sym as usize
    });
    // SAFETY: `ntf` has exactly this signature.
    unsafe { std::mem::transmute::<usize, extern "C" fn(f32, f64) -> f32>(f) }
}

#[test]
fn out_parameters_are_checked() {
    let mut env = Env::new();
    let one = 1f64.to_bits();
    for bad in BAD_POINTERS {
        assert_mem_error(env.call("frexp", &[one, bad]), bad);
        assert_mem_error(env.call("modf", &[one, bad]), bad);
        assert_mem_error(env.call("remquo", &[one, one, bad]), bad);
        assert_mem_error(env.call("lgamma_r", &[one, bad]), bad);
        assert_mem_error(env.call("nan", &[bad]), bad);
    }
    // A 4-byte heap block holds frexp's int but not modf's double.
    let p = env.ok("malloc", &[4]);
    env.ok("frexp", &[one, p]);
    common::assert_fault(env.call("modf", &[one, p]), &["modf", "4-byte heap block"]);
    let ro = env.literal(b"12345678");
    assert_mem_error(env.call("modff", &[one, ro]), ro);
}

#[test]
fn glibc_examples() {
    let mut env = Env::new();
    let d = |x: f64| x.to_bits();
    assert_eq!(env.ok("sqrt", &[d(2.0)]), d(std::f64::consts::SQRT_2));
    assert_eq!(env.ok("pow", &[d(2.0), d(10.0)]), d(1024.0));
    assert_eq!(env.ok("ilogb", &[0]) as i64, i64::from(i32::MIN));
    assert_eq!(env.ok("ldexp", &[d(1.0), -1i64 as u64]), d(0.5));
    // The int argument is the low 32 bits of its register.
    assert_eq!(env.ok("ldexp", &[d(1.0), 0xffff_ffff]), d(0.5));
    let t = env.cstr(b"0x7");
    assert_eq!(env.ok("nan", &[t]), 0x7ff8_0000_0000_0007);
}
