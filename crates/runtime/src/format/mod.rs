//! printf-style formatting, as glibc does it.
//!
//! Values arrive as 64-bit slots ([`args`]: a va block in full mode,
//! argument registers in strict mode); each conversion takes the bits its
//! type has in C (`%d`: the low 32 bits, sign-extended; `%ld`: all 64;
//! `%hhu`: the low byte; `%s`: a VM string pointer; `%f`: a `double`'s bit
//! pattern). Supported: `d i u o x X c s p %` and `f F e E g G a A` with the
//! flags `- + space # 0 '`, field width and precision (also `*`), and the
//! length modifiers `hh h l ll L q j z Z t` (`long double` is `double`).
//! Floating point is refused in strict mode (its calls carry no floats the
//! runtime could trust to be ones); wide characters are refused with a
//! message. `%n` (a store through a pointer argument) and `%m` (`errno`'s
//! text) exist for the C library's own printf family ([`format_hosted`]),
//! not for helpers of other crates (`bpf_trace_printk` refuses them, as
//! the kernel does). Any other unknown conversion is copied to the output
//! literally, as glibc does.

pub(crate) mod args;
mod decimal;
mod float;

pub(crate) use args::{Args, RangeCheck, VaReader};
pub(crate) use decimal::Decimal;

use crate::vmstr::{cstr, cstr_prefix, explain, int_arg};
use bpf_vm::{HelperError, Memory};

/// Largest field width, precision or result of one call (16 MiB).
pub const MAX_FORMATTED: usize = 16 << 20;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Length {
    Char,
    Short,
    #[default]
    Int,
    /// `l`, `ll`, `L`, `q`, `j`, `z`, `Z`, `t`: all 64 bits on BPF.
    Long,
}

/// One parsed conversion specification.
#[derive(Debug, Default, Clone, Copy)]
struct Spec {
    minus: bool,
    plus: bool,
    space: bool,
    hash: bool,
    zero: bool,
    width: usize,
    precision: Option<usize>,
    length: Length,
    /// True when the length was exactly `l` (wide `%lc`/`%ls`).
    wide: bool,
}

/// A `%n` store the caller makes once the text is formatted: `size`
/// bytes of `value` at `addr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CountStore {
    pub addr: u64,
    pub value: u64,
    pub size: usize,
}

/// What `%n` and `%m` need: present for the C library's printf family.
pub(crate) struct Hosted<'a> {
    /// `errno` now (for `%m`).
    pub errno: i32,
    /// Where `%n` stores are collected.
    pub stores: &'a mut Vec<CountStore>,
}

/// What one formatting call reads: VM memory (for `%s` strings and va
/// slots), the heap check every read goes through, and the function name
/// messages give.
struct Source<'a, 'b> {
    mem: &'a Memory,
    check: RangeCheck<'a>,
    func: &'a str,
    args: &'a mut Args<'b>,
    hosted: Option<Hosted<'a>>,
}

impl Source<'_, '_> {
    fn take(&mut self) -> Result<u64, HelperError> {
        self.args.take(self.mem, self.check, self.func)
    }
}

/// Formats `fmt` with the values `args` yields, reading `%s` strings from
/// `mem` (each string's bytes also go through `check`). `func` names the
/// calling function in messages.
pub(crate) fn format(
    mem: &Memory,
    check: RangeCheck,
    func: &str,
    fmt: &[u8],
    args: &mut Args,
) -> Result<Vec<u8>, HelperError> {
    format_with(mem, check, func, fmt, args, None)
}

/// [`format`] with `%n` (its stores collected in `hosted.stores`, each
/// with the count of bytes formatted before it) and `%m`.
pub(crate) fn format_hosted(
    mem: &Memory,
    check: RangeCheck,
    func: &str,
    fmt: &[u8],
    args: &mut Args,
    hosted: Hosted,
) -> Result<Vec<u8>, HelperError> {
    format_with(mem, check, func, fmt, args, Some(hosted))
}

fn format_with(
    mem: &Memory,
    check: RangeCheck,
    func: &str,
    fmt: &[u8],
    args: &mut Args,
    hosted: Option<Hosted>,
) -> Result<Vec<u8>, HelperError> {
    let mut out = Vec::new();
    let mut src = Source {
        mem,
        check,
        func,
        args,
        hosted,
    };
    let mut i = 0;
    while i < fmt.len() {
        if fmt[i] != b'%' {
            let end = fmt[i..]
                .iter()
                .position(|&c| c == b'%')
                .map_or(fmt.len(), |p| i + p);
            out.extend_from_slice(&fmt[i..end]);
            i = end;
        } else {
            i = conversion(&mut src, fmt, i, &mut out)?;
        }
        if out.len() > MAX_FORMATTED {
            return Err(fault(func, "the formatted text is longer than 16 MiB"));
        }
    }
    Ok(out)
}

/// Formats `fmt` with raw argument registers by `printf`'s rules, for
/// printf-like helpers of other crates (the kernel's `bpf_trace_printk`).
/// Strings are read from `mem`, every byte checked.
pub fn format_registers(
    mem: &Memory,
    func: &str,
    fmt: &[u8],
    values: &[u64],
) -> Result<Vec<u8>, HelperError> {
    format(
        mem,
        &|_, _| Ok(()),
        func,
        fmt,
        &mut args::Args::Registers { values, next: 0 },
    )
}

fn fault(func: &str, what: &str) -> HelperError {
    HelperError::Fault(format!("{func}: {what}"))
}

/// Parses a decimal number at `i`; returns it (saturated) and the index after it.
fn number(fmt: &[u8], mut i: usize) -> (usize, usize) {
    let mut n: usize = 0;
    while let Some(d) = fmt.get(i).filter(|c| c.is_ascii_digit()) {
        n = n.saturating_mul(10).saturating_add(usize::from(d - b'0'));
        i += 1;
    }
    (n, i)
}

fn check_size(func: &str, n: usize) -> Result<usize, HelperError> {
    if n > MAX_FORMATTED {
        return Err(fault(
            func,
            &format!("field width or precision {n} is too large (at most {MAX_FORMATTED})"),
        ));
    }
    Ok(n)
}

/// Formats the conversion starting at `fmt[start] == b'%'`; returns the index after it.
fn conversion(
    src: &mut Source,
    fmt: &[u8],
    start: usize,
    out: &mut Vec<u8>,
) -> Result<usize, HelperError> {
    let (mem, check, func) = (src.mem, src.check, src.func);
    let mut spec = Spec::default();
    let mut i = start + 1;
    loop {
        match fmt.get(i) {
            Some(b'-') => spec.minus = true,
            Some(b'+') => spec.plus = true,
            Some(b' ') => spec.space = true,
            Some(b'#') => spec.hash = true,
            Some(b'0') => spec.zero = true,
            // Thousands grouping: nothing to group in the C locale.
            Some(b'\'') => {}
            _ => break,
        }
        i += 1;
    }
    if fmt.get(i) == Some(&b'*') {
        i += 1;
        let w = int_arg(src.take()?);
        spec.minus |= w < 0;
        spec.width = check_size(func, w.unsigned_abs() as usize)?;
    } else {
        let (w, j) = number(fmt, i);
        if j > i && fmt.get(j) == Some(&b'$') {
            return Err(fault(
                func,
                "positional arguments (such as %1$d) are not supported",
            ));
        }
        spec.width = check_size(func, w)?;
        i = j;
    }
    if fmt.get(i) == Some(&b'.') {
        i += 1;
        if fmt.get(i) == Some(&b'*') {
            i += 1;
            let p = int_arg(src.take()?);
            spec.precision = match usize::try_from(p) {
                Ok(p) => Some(check_size(func, p)?),
                Err(_) => None,
            };
        } else {
            let (p, j) = number(fmt, i);
            spec.precision = Some(check_size(func, p)?);
            i = j;
        }
    }
    let rest = &fmt[i..];
    let (length, skip) = match rest {
        [b'h', b'h', ..] => (Length::Char, 2),
        [b'h', ..] => (Length::Short, 1),
        [b'l', b'l', ..] => (Length::Long, 2),
        [b'l', ..] => {
            spec.wide = true;
            (Length::Long, 1)
        }
        [b'L' | b'q' | b'j' | b'z' | b'Z' | b't', ..] => (Length::Long, 1),
        _ => (Length::Int, 0),
    };
    spec.length = length;
    i += skip;
    let Some(&conv) = fmt.get(i) else {
        let text = String::from_utf8_lossy(&fmt[start..]);
        return Err(fault(
            func,
            &format!("the format ends in the middle of the conversion \"{text}\""),
        ));
    };
    match conv {
        b'%' => out.push(b'%'),
        b'd' | b'i' => {
            let v = src.take()?;
            let v: i64 = match spec.length {
                Length::Char => v as i8 as i64,
                Length::Short => v as i16 as i64,
                Length::Int => v as i32 as i64,
                Length::Long => v as i64,
            };
            let sign: &[u8] = if v < 0 {
                b"-"
            } else if spec.plus {
                b"+"
            } else if spec.space {
                b" "
            } else {
                b""
            };
            push_integer(out, &spec, sign, v.unsigned_abs(), 10, false);
        }
        b'u' | b'o' | b'x' | b'X' => {
            let v = src.take()?;
            let v: u64 = match spec.length {
                Length::Char => v as u8 as u64,
                Length::Short => v as u16 as u64,
                Length::Int => v as u32 as u64,
                Length::Long => v,
            };
            let base = match conv {
                b'u' => 10,
                b'o' => 8,
                _ => 16,
            };
            push_integer(out, &spec, b"", v, base, conv == b'X');
        }
        b'p' => {
            let v = src.take()?;
            if v == 0 {
                push_padded(out, &spec, b"(nil)");
            } else {
                let sign: &[u8] = if spec.plus {
                    b"+"
                } else if spec.space {
                    b" "
                } else {
                    b""
                };
                spec.hash = true;
                push_integer(out, &spec, sign, v, 16, false);
            }
        }
        b'c' if !spec.wide => {
            let v = src.take()?;
            push_padded(out, &spec, &[v as u8]);
        }
        b's' if !spec.wide => {
            let v = src.take()?;
            if v == 0 {
                let text: &[u8] = match spec.precision {
                    Some(p) if p < 6 => b"",
                    _ => b"(null)",
                };
                push_padded(out, &spec, text);
            } else {
                let (text, read) = match spec.precision {
                    Some(p) => {
                        let t = cstr_prefix(mem, v, p).map_err(|e| explain(e, v, check))?;
                        (t, (t.len() + 1).min(p))
                    }
                    None => {
                        let t = cstr(mem, v).map_err(|e| explain(e, v, check))?;
                        (t, t.len() + 1)
                    }
                };
                check(v, read)?;
                push_padded(out, &spec, text);
            }
        }
        b'c' | b's' | b'C' | b'S' => {
            return Err(fault(
                func,
                "wide characters (%lc, %ls, %C, %S) are not supported",
            ))
        }
        b'n' if src.hosted.is_some() => {
            let addr = src.take()?;
            let size = match spec.length {
                Length::Char => 1,
                Length::Short => 2,
                Length::Int => 4,
                Length::Long => 8,
            };
            let value = out.len() as u64;
            if let Some(h) = src.hosted.as_mut() {
                h.stores.push(CountStore { addr, value, size });
            }
        }
        b'm' if src.hosted.is_some() => {
            let e = src.hosted.as_ref().map_or(0, |h| h.errno);
            let text = crate::errno::message(e);
            let text = text.as_bytes();
            let len = spec.precision.map_or(text.len(), |p| p.min(text.len()));
            push_padded(out, &spec, &text[..len]);
        }
        b'n' => {
            return Err(fault(
                func,
                "%n is not supported here (it would write through a pointer)",
            ))
        }
        b'm' => return Err(fault(func, "%m is not supported here")),
        b'a' | b'A' | b'e' | b'E' | b'f' | b'F' | b'g' | b'G' if src.args.strict() => {
            return Err(fault(
                func,
                &format!(
                    "%{} needs floating point, which strict mode does not have (plain BPF has \
                     no floating point; compile in full mode, without --strict-bpf)",
                    conv as char
                ),
            ))
        }
        b'a' | b'A' | b'e' | b'E' | b'f' | b'F' | b'g' | b'G' => {
            let v = src.take()?;
            float::push_float(out, &spec, conv, f64::from_bits(v));
        }
        _ => out.extend_from_slice(&fmt[start..=i]),
    }
    Ok(i + 1)
}

/// Appends `text`, padded with spaces to the field width.
fn push_padded(out: &mut Vec<u8>, spec: &Spec, text: &[u8]) {
    let pad = spec.width.saturating_sub(text.len());
    if !spec.minus {
        out.resize(out.len() + pad, b' ');
    }
    out.extend_from_slice(text);
    if spec.minus {
        out.resize(out.len() + pad, b' ');
    }
}

/// Appends an integer: sign, `0x` prefix (for `#` with hex), digits with
/// the precision's leading zeros, padded to the field width.
fn push_integer(out: &mut Vec<u8>, spec: &Spec, sign: &[u8], v: u64, base: u64, upper: bool) {
    let mut digits = Vec::new();
    if !(v == 0 && spec.precision == Some(0)) {
        let set: &[u8; 16] = if upper {
            b"0123456789ABCDEF"
        } else {
            b"0123456789abcdef"
        };
        let mut n = v;
        loop {
            digits.push(set[(n % base) as usize]);
            n /= base;
            if n == 0 {
                break;
            }
        }
        digits.reverse();
    }
    if let Some(p) = spec.precision {
        if digits.len() < p {
            let zeros = p - digits.len();
            digits.splice(0..0, std::iter::repeat_n(b'0', zeros));
        }
    }
    if base == 8 && spec.hash && digits.first() != Some(&b'0') {
        digits.insert(0, b'0');
    }
    let prefix: &[u8] = match (base, spec.hash && v != 0, upper) {
        (16, true, false) => b"0x",
        (16, true, true) => b"0X",
        _ => b"",
    };
    let len = sign.len() + prefix.len() + digits.len();
    let pad = spec.width.saturating_sub(len);
    if spec.minus {
        out.extend_from_slice(sign);
        out.extend_from_slice(prefix);
        out.extend_from_slice(&digits);
        out.resize(out.len() + pad, b' ');
    } else if spec.zero && spec.precision.is_none() {
        out.extend_from_slice(sign);
        out.extend_from_slice(prefix);
        out.resize(out.len() + pad, b'0');
        out.extend_from_slice(&digits);
    } else {
        out.resize(out.len() + pad, b' ');
        out.extend_from_slice(sign);
        out.extend_from_slice(prefix);
        out.extend_from_slice(&digits);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bpf_vm::RegionKind;

    fn run(fmt: &[u8], values: &[u64]) -> Result<Vec<u8>, HelperError> {
        let m = Memory::new();
        let mut args = Args::Registers { values, next: 0 };
        format(&m, &|_, _| Ok(()), "printf", fmt, &mut args)
    }

    fn f(fmt: &str, values: &[u64]) -> String {
        String::from_utf8(run(fmt.as_bytes(), values).unwrap()).unwrap()
    }

    #[test]
    fn registers_are_narrowed_to_the_c_type() {
        // -1 in a 64-bit register: %d sees the low 32 bits.
        assert_eq!(f("%d", &[u64::MAX]), "-1");
        assert_eq!(f("%d", &[0xffff_ffff_0000_0005]), "5");
        assert_eq!(f("%u", &[u64::MAX]), "4294967295");
        assert_eq!(f("%lu", &[u64::MAX]), "18446744073709551615");
        assert_eq!(f("%hhd", &[0x80]), "-128");
    }

    #[test]
    fn too_few_arguments_is_a_fault() {
        let e = run(b"%d %d", &[1]).unwrap_err();
        assert!(
            matches!(&e, HelperError::Fault(s) if s.contains("argument 2") && s.contains("at most 1")),
            "{e}"
        );
    }

    #[test]
    fn strict_mode_refuses_floating_point() {
        let e = run(b"%.2f", &[1f64.to_bits()]).unwrap_err();
        assert!(
            matches!(&e, HelperError::Fault(s) if s.contains("strict mode")),
            "{e}"
        );
    }

    #[test]
    fn huge_width_is_refused_before_allocating() {
        let e = run(b"%999999999999d", &[1]).unwrap_err();
        assert!(matches!(e, HelperError::Fault(s) if s.contains("too large")));
    }

    /// A va block `{cur, end, slots}` in VM data memory.
    fn va_block(m: &mut Memory, slots: &[u64]) -> u64 {
        let va = m.alloc(RegionKind::Data, 16 + 8 * slots.len(), 8).unwrap();
        m.store(va, 8, va + 16).unwrap();
        m.store(va + 8, 8, va + 16 + 8 * slots.len() as u64)
            .unwrap();
        for (i, s) in slots.iter().enumerate() {
            m.store(va + 16 + 8 * i as u64, 8, *s).unwrap();
        }
        va
    }

    #[test]
    fn va_blocks_carry_doubles_and_integers() {
        let mut m = Memory::new();
        let va = va_block(&mut m, &[u64::MAX, 2.5f64.to_bits(), 7]);
        let check = |_, _| Ok(());
        let mut args = Args::Va(VaReader::new(&m, &check, "printf", va, false).unwrap());
        let text = format(&m, &check, "printf", b"%d %.3f %ld", &mut args).unwrap();
        assert_eq!(text, b"-1 2.500 7");
        let mut args = Args::Va(VaReader::new(&m, &check, "printf", va, false).unwrap());
        let e = format(&m, &check, "printf", b"%d %f %d %d", &mut args).unwrap_err();
        assert_eq!(
            e.to_string(),
            "printf: the format asks for argument 4 after the format, but the call passed 3"
        );
    }

    #[test]
    fn a_va_list_is_advanced_by_what_was_read() {
        let mut m = Memory::new();
        let va = va_block(&mut m, &[1, 2, 3]);
        let check = |_, _| Ok(());
        let mut reader = VaReader::new(&m, &check, "vprintf", va, true).unwrap();
        let mut args = Args::Va(reader);
        format(&m, &check, "vprintf", b"%d", &mut args).unwrap();
        let Args::Va(r) = args else { unreachable!() };
        reader = r;
        assert_eq!(reader.remaining(), 2);
        reader.write_back(&mut m).unwrap();
        assert_eq!(m.load(va, 8).unwrap(), va + 24);
        let mut args = Args::Va(VaReader::new(&m, &check, "vprintf", va, true).unwrap());
        let e = format(&m, &check, "vprintf", b"%d%d%d", &mut args).unwrap_err();
        assert!(e.to_string().contains("only 2 remained"), "{e}");
        // A va_list is no va block: its cur need not follow the pair.
        let e = VaReader::new(&m, &check, "printf", va, false)
            .err()
            .unwrap();
        assert!(e.to_string().contains("not a va block"), "{e}");
    }
}
