//! The scanf family (`scanf`, `fscanf`, `sscanf` and their `v*` forms):
//! glibc's `vfscanf` algorithm in the C locale, byte for byte — the same
//! characters consumed, the same values stored, the same count (or EOF)
//! returned, glibc's quirks included (`%f` takes "100e" as 100, "0x" with
//! `%x` is 0).
//!
//! Conversions: `d i u o x X p n c s [` and `e f g a E F G A`, with `*`,
//! a width, the lengths `hh h l ll L q j z t`, and `m` (allocate the
//! string with `malloc`, as POSIX says). Wide conversions (`%lc`, `%ls`,
//! `%l[`) and positional arguments are refused with a message. Every
//! pointer an argument gives is checked before the store through it.

use crate::ctx::Ctx;
use crate::format::Args;
use crate::input::Input;
use crate::strconv::{parse, signed_overflows, to_signed, to_unsigned};
use crate::strtod::{self, Format};
use crate::vmstr::int_ret;
use bpf_vm::{HelperError, Memory};
use std::io;

/// `c`'s value at end of input.
const EOF: i32 = -1;

/// The input side of one call: the stream, the last character read (or
/// EOF) and the count of characters consumed.
struct Reader<'a> {
    input: &'a mut dyn Input,
    c: i32,
    read_in: usize,
    /// The stream failed (errno to set).
    error: Option<io::Error>,
}

impl Reader<'_> {
    /// glibc's `inchar()`: once EOF was seen, it stays EOF.
    fn inchar(&mut self) -> i32 {
        if self.c == EOF {
            return EOF;
        }
        self.c = match self.input.next_byte() {
            Ok(Some(b)) => {
                self.read_in += 1;
                i32::from(b)
            }
            Ok(None) => EOF,
            Err(e) => {
                self.error = Some(e);
                EOF
            }
        };
        self.c
    }

    /// glibc's `ungetc(c, s)`: nothing for EOF.
    fn ungetc(&mut self, c: i32) {
        if c != EOF {
            self.read_in -= 1;
            self.input.unget(c as u8);
        }
    }
}

fn is_space(c: i32) -> bool {
    matches!(c, 0x20 | 0x09..=0x0d)
}

fn lower(c: i32) -> i32 {
    if (0x41..=0x5a).contains(&c) {
        c + 32
    } else {
        c
    }
}

fn is_digit(c: i32) -> bool {
    (0x30..=0x39).contains(&c)
}

fn is_xdigit(c: i32) -> bool {
    is_digit(c) || (0x61..=0x66).contains(&lower(c))
}

/// How a conversion ended when it did not succeed.
enum Stop {
    /// Input failure (`input_error`): EOF if nothing was assigned yet.
    Input,
    /// Matching failure (`conv_error`).
    Match,
}

/// The length modifier of a conversion.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Len {
    Char,
    Short,
    Int,
    Long,
}

/// Everything a conversion stores through: memory, the checks, the args.
struct Out<'a, 'b> {
    cx: &'a Ctx,
    func: &'a str,
    mem: &'a mut Memory,
    args: &'a mut Args<'b>,
}

impl Out<'_, '_> {
    fn arg(&mut self) -> Result<u64, HelperError> {
        let (cx, func) = (self.cx, self.func);
        self.args.take(self.mem, &|a, n| cx.check(func, a, n), func)
    }

    fn store(&mut self, addr: u64, size: usize, v: u64) -> Result<(), HelperError> {
        self.cx.check(self.func, addr, size)?;
        self.mem.store(addr, size, v)?;
        Ok(())
    }

    fn store_bytes(&mut self, addr: u64, bytes: &[u8]) -> Result<(), HelperError> {
        self.cx.check(self.func, addr, bytes.len())?;
        self.mem.write_bytes(addr, bytes)?;
        Ok(())
    }

    /// Where a string conversion stores: the pointer argument, or for `%m`
    /// a fresh heap block whose address goes through the `char **`
    /// argument. `None` for a NULL pointer (glibc: matching failure).
    fn string_target(&mut self, malloc: bool, bytes: &[u8]) -> Result<Option<()>, HelperError> {
        let p = self.arg()?;
        if p == 0 {
            return Ok(None);
        }
        if malloc {
            let block = self
                .cx
                .state
                .borrow_mut()
                .heap
                .malloc(self.mem, bytes.len())?;
            if block == 0 {
                return Ok(None);
            }
            self.store_bytes(block, bytes)?;
            self.store(p, 8, block)?;
        } else {
            self.store_bytes(p, bytes)?;
        }
        Ok(Some(()))
    }
}

/// Runs the format `fmt` over `input`, storing through `args`; the count
/// of assignments, or -1 (EOF) for an input failure before the first.
pub(crate) fn scan(
    cx: &Ctx,
    func: &str,
    mem: &mut Memory,
    input: &mut dyn Input,
    fmt: &[u8],
    args: &mut Args,
) -> Result<(i32, Option<io::Error>), HelperError> {
    let mut r = Reader {
        input,
        c: 0,
        read_in: 0,
        error: None,
    };
    let mut out = Out {
        cx,
        func,
        mem,
        args,
    };
    let mut done: i32 = 0;
    let result = directives(&mut r, &mut out, fmt, &mut done)?;
    if let Err(Stop::Input) = result {
        if done == 0 {
            done = -1;
        }
    }
    Ok((done, r.error))
}

/// The directives of the format, in order.
fn directives(
    r: &mut Reader,
    out: &mut Out,
    fmt: &[u8],
    done: &mut i32,
) -> Result<Result<(), Stop>, HelperError> {
    let mut f = 0;
    let mut skip_space = false;
    while f < fmt.len() {
        let fc = fmt[f];
        f += 1;
        if fc != b'%' {
            if is_space(i32::from(fc)) {
                skip_space = true;
                continue;
            }
            let mut c = r.inchar();
            if c == EOF {
                return Ok(Err(Stop::Input));
            }
            if skip_space {
                while is_space(c) {
                    c = r.inchar();
                    if c == EOF {
                        return Ok(Err(Stop::Input));
                    }
                }
                skip_space = false;
            }
            if c != i32::from(fc) {
                r.ungetc(c);
                return Ok(Err(Stop::Match));
            }
            continue;
        }
        let (spec, next) = match parse_spec(out.func, fmt, f)? {
            Some(s) => s,
            None => return Ok(Err(Stop::Match)),
        };
        f = next;
        if skip_space || !matches!(spec.conv, b'[' | b'c' | b'C' | b'n') {
            loop {
                if r.c == EOF || r.inchar() == EOF {
                    break;
                }
                if !is_space(r.c) {
                    break;
                }
            }
            let c = r.c;
            r.ungetc(c);
            skip_space = false;
        }
        if let Err(stop) = conversion(r, out, &spec, fmt, &mut f, done)? {
            return Ok(Err(stop));
        }
    }
    if skip_space {
        let mut c = r.inchar();
        while is_space(c) {
            c = r.inchar();
        }
        r.ungetc(c);
    }
    Ok(Ok(()))
}

/// One conversion specification after its `%`.
struct Spec {
    suppress: bool,
    /// -1: no width.
    width: i64,
    len: Len,
    /// `L`, `ll`, `q`: a `long double` for floats.
    long_double: bool,
    malloc: bool,
    conv: u8,
}

/// Parses flags, width and length at `fmt[f..]`; `None` when the format
/// ends inside the specification (glibc: matching failure).
fn parse_spec(func: &str, fmt: &[u8], mut f: usize) -> Result<Option<(Spec, usize)>, HelperError> {
    let mut spec = Spec {
        suppress: false,
        width: 0,
        len: Len::Int,
        long_double: false,
        malloc: false,
        conv: 0,
    };
    let digits_at = |f: usize| fmt.get(f).is_some_and(|c| c.is_ascii_digit());
    let mut positional = false;
    if digits_at(f) {
        let mut g = f;
        while digits_at(g) {
            g += 1;
        }
        positional = fmt.get(g) == Some(&b'$');
    }
    if positional {
        return Err(HelperError::Fault(format!(
            "{func}: positional arguments (such as %1$d) are not supported"
        )));
    }
    while let Some(c @ (b'*' | b'\'' | b'I')) = fmt.get(f) {
        spec.suppress |= *c == b'*';
        f += 1;
    }
    while digits_at(f) {
        spec.width = (spec.width * 10 + i64::from(fmt[f] - b'0')).min(i64::from(i32::MAX));
        f += 1;
    }
    if spec.width == 0 {
        spec.width = -1;
    }
    match fmt.get(f) {
        Some(b'h') if fmt.get(f + 1) == Some(&b'h') => {
            spec.len = Len::Char;
            f += 2;
        }
        Some(b'h') => {
            spec.len = Len::Short;
            f += 1;
        }
        Some(b'l') if fmt.get(f + 1) == Some(&b'l') => {
            spec.len = Len::Long;
            spec.long_double = true;
            f += 2;
        }
        Some(b'l' | b'z' | b'j' | b't') => {
            spec.len = Len::Long;
            f += 1;
        }
        Some(b'L' | b'q') => {
            spec.len = Len::Long;
            spec.long_double = true;
            f += 1;
        }
        Some(b'm') => {
            spec.malloc = true;
            f += 1;
            if fmt.get(f) == Some(&b'l') {
                spec.len = Len::Long;
                f += 1;
            }
        }
        _ => {}
    }
    let Some(&conv) = fmt.get(f) else {
        return Ok(None);
    };
    spec.conv = conv;
    Ok(Some((spec, f + 1)))
}

fn wide_refused(func: &str) -> HelperError {
    HelperError::Fault(format!(
        "{func}: wide characters (%lc, %ls, %l[, %C, %S) are not supported"
    ))
}

/// Runs one conversion; `fmt[*f..]` follows its conversion character
/// (`%[` reads its set from there).
fn conversion(
    r: &mut Reader,
    out: &mut Out,
    spec: &Spec,
    fmt: &[u8],
    f: &mut usize,
    done: &mut i32,
) -> Result<Result<(), Stop>, HelperError> {
    let mut width = spec.width;
    let long_string = spec.len == Len::Long;
    match spec.conv {
        b'%' => {
            let c = r.inchar();
            if c == EOF {
                return Ok(Err(Stop::Input));
            }
            if c != i32::from(b'%') {
                r.ungetc(c);
                return Ok(Err(Stop::Match));
            }
        }
        b'n' => {
            if !spec.suppress {
                let p = out.arg()?;
                let size = int_size(spec.len);
                out.store(p, size, r.read_in as u64)?;
            }
        }
        b'c' | b'C' | b's' | b'S' | b'[' if long_string || matches!(spec.conv, b'C' | b'S') => {
            return Err(wide_refused(out.func));
        }
        b'c' => {
            if width == -1 {
                width = 1;
            }
            let mut c = r.inchar();
            if c == EOF {
                return Ok(Err(Stop::Input));
            }
            let mut bytes = Vec::new();
            loop {
                bytes.push(c as u8);
                width -= 1;
                if width <= 0 {
                    break;
                }
                c = r.inchar();
                if c == EOF {
                    break;
                }
            }
            if !spec.suppress {
                if out.string_target(spec.malloc, &bytes)?.is_none() {
                    return Ok(Err(Stop::Match));
                }
                *done += 1;
            }
        }
        b's' => {
            let mut c = r.inchar();
            if c == EOF {
                return Ok(Err(Stop::Input));
            }
            let mut bytes = Vec::new();
            loop {
                if is_space(c) {
                    r.ungetc(c);
                    break;
                }
                bytes.push(c as u8);
                if width > 0 {
                    width -= 1;
                    if width == 0 {
                        break;
                    }
                }
                c = r.inchar();
                if c == EOF {
                    break;
                }
            }
            if !spec.suppress {
                bytes.push(0);
                if out.string_target(spec.malloc, &bytes)?.is_none() {
                    return Ok(Err(Stop::Match));
                }
                *done += 1;
            }
        }
        b'[' => return scanset(r, out, spec, fmt, f, done),
        b'x' | b'X' => return number(r, out, spec, 16, false, false, done),
        b'o' => return number(r, out, spec, 8, false, false, done),
        b'u' => return number(r, out, spec, 10, false, false, done),
        b'd' => return number(r, out, spec, 10, true, false, done),
        b'i' => return number(r, out, spec, 0, true, false, done),
        b'p' => return number(r, out, spec, 16, false, true, done),
        b'e' | b'E' | b'f' | b'F' | b'g' | b'G' | b'a' | b'A' => return float(r, out, spec, done),
        _ => return Ok(Err(Stop::Match)),
    }
    Ok(Ok(()))
}

fn int_size(len: Len) -> usize {
    match len {
        Len::Char => 1,
        Len::Short => 2,
        Len::Int => 4,
        Len::Long => 8,
    }
}

/// `%[...]`.
fn scanset(
    r: &mut Reader,
    out: &mut Out,
    spec: &Spec,
    fmt: &[u8],
    f: &mut usize,
    done: &mut i32,
) -> Result<Result<(), Stop>, HelperError> {
    let mut set = [false; 256];
    let mut i = *f;
    let not_in = fmt.get(i) == Some(&b'^');
    if not_in {
        i += 1;
    }
    let mut width = if spec.width < 0 {
        i64::from(i32::MAX)
    } else {
        spec.width
    };
    if let Some(&c @ (b']' | b'-')) = fmt.get(i) {
        set[usize::from(c)] = true;
        i += 1;
    }
    let mut closed = false;
    while let Some(&fc) = fmt.get(i) {
        i += 1;
        if fc == b']' {
            closed = true;
            break;
        }
        match fmt.get(i) {
            Some(&next) if fc == b'-' && next != b']' && i >= 2 && fmt[i - 2] <= next => {
                for b in fmt[i - 2]..next {
                    set[usize::from(b)] = true;
                }
            }
            _ => set[usize::from(fc)] = true,
        }
    }
    *f = i;
    if !closed {
        return Ok(Err(Stop::Match));
    }
    let now = r.read_in;
    let mut c = r.inchar();
    if c == EOF {
        return Ok(Err(Stop::Input));
    }
    let mut bytes = Vec::new();
    loop {
        if set[c as usize] == not_in {
            r.ungetc(c);
            break;
        }
        bytes.push(c as u8);
        width -= 1;
        if width <= 0 {
            break;
        }
        c = r.inchar();
        if c == EOF {
            break;
        }
    }
    if now == r.read_in {
        return Ok(Err(Stop::Match));
    }
    if !spec.suppress {
        bytes.push(0);
        if out.string_target(spec.malloc, &bytes)?.is_none() {
            return Ok(Err(Stop::Match));
        }
        *done += 1;
    }
    Ok(Ok(()))
}

/// `%d %i %u %o %x %p`.
fn number(
    r: &mut Reader,
    out: &mut Out,
    spec: &Spec,
    mut base: i32,
    signed: bool,
    pointer: bool,
    done: &mut i32,
) -> Result<Result<(), Stop>, HelperError> {
    let mut width = spec.width;
    let mut wp: Vec<u8> = Vec::new();
    let mut c = r.inchar();
    if c == EOF {
        return Ok(Err(Stop::Input));
    }
    if c == i32::from(b'-') || c == i32::from(b'+') {
        wp.push(c as u8);
        if width > 0 {
            width -= 1;
        }
        c = r.inchar();
    }
    if width != 0 && c == i32::from(b'0') {
        if width > 0 {
            width -= 1;
        }
        wp.push(b'0');
        c = r.inchar();
        if width != 0 && lower(c) == i32::from(b'x') {
            if base == 0 {
                base = 16;
            }
            if base == 16 {
                if width > 0 {
                    width -= 1;
                }
                c = r.inchar();
            }
        } else if base == 0 {
            base = 8;
        }
    }
    if base == 0 {
        base = 10;
    }
    while c != EOF && width != 0 {
        let ok = if base == 16 {
            is_xdigit(c)
        } else {
            is_digit(c) && c - 0x30 < base
        };
        if !ok {
            break;
        }
        wp.push(c as u8);
        if width > 0 {
            width -= 1;
        }
        c = r.inchar();
    }
    if wp.is_empty() || (wp.len() == 1 && matches!(wp[0], b'+' | b'-')) {
        let nil = wp.is_empty()
            && pointer
            && !(0..5).contains(&width)
            && c == i32::from(b'(')
            && lower(r.inchar()) == i32::from(b'n')
            && lower(r.inchar()) == i32::from(b'i')
            && lower(r.inchar()) == i32::from(b'l')
            && r.inchar() == i32::from(b')');
        if nil {
            wp.push(b'0');
        } else {
            let c = r.c;
            r.ungetc(c);
            return Ok(Err(Stop::Match));
        }
    } else {
        r.ungetc(c);
    }
    let Some(p) = parse(&wp, base).filter(|p| p.end > 0) else {
        return Ok(Err(Stop::Match));
    };
    // glibc converts with strtol/strtoul, which set errno.
    if (signed && signed_overflows(p)) || (!signed && p.overflow) {
        out.cx.set_errno(out.mem, libc::ERANGE)?;
    }
    if !spec.suppress {
        let len = if pointer { Len::Long } else { spec.len };
        let v = if signed {
            to_signed(p) as u64
        } else {
            to_unsigned(p)
        };
        let addr = out.arg()?;
        out.store(addr, int_size(len), v)?;
        *done += 1;
    }
    Ok(Ok(()))
}

/// `%e %f %g %a` (any case).
fn float(
    r: &mut Reader,
    out: &mut Out,
    spec: &Spec,
    done: &mut i32,
) -> Result<Result<(), Stop>, HelperError> {
    let mut width = spec.width;
    let mut wp: Vec<u8> = Vec::new();
    let mut c = r.inchar();
    if width > 0 {
        width -= 1;
    }
    if c == EOF {
        return Ok(Err(Stop::Input));
    }
    let mut negative = false;
    if c == i32::from(b'-') || c == i32::from(b'+') {
        negative = c == i32::from(b'-');
        if width == 0 || r.inchar() == EOF {
            return Ok(Err(Stop::Match));
        }
        c = r.c;
        if width > 0 {
            width -= 1;
        }
    }
    // Reads the next character of a word ("nan", "inf", "infinity").
    macro_rules! expect {
        ($ch:expr) => {{
            if width == 0 || r.inchar() == EOF || lower(r.c) != i32::from($ch) {
                return Ok(Err(Stop::Match));
            }
            c = r.c;
            if width > 0 {
                width -= 1;
            }
            wp.push(c as u8);
        }};
    }
    let special = if lower(c) == i32::from(b'n') {
        wp.push(c as u8);
        expect!(b'a');
        expect!(b'n');
        true
    } else if lower(c) == i32::from(b'i') {
        wp.push(c as u8);
        expect!(b'n');
        expect!(b'f');
        if width != 0 && r.inchar() != EOF {
            c = r.c;
            if lower(c) == i32::from(b'i') {
                if width > 0 {
                    width -= 1;
                }
                wp.push(c as u8);
                expect!(b'n');
                expect!(b'i');
                expect!(b't');
                expect!(b'y');
            } else {
                r.ungetc(c);
            }
        }
        true
    } else {
        false
    };
    if !special {
        let mut exp_char = i32::from(b'e');
        let (mut got_digit, mut got_dot, mut got_e, mut hexa) = (false, false, false, false);
        if width != 0 && c == i32::from(b'0') {
            wp.push(b'0');
            c = r.inchar();
            if width > 0 {
                width -= 1;
            }
            if width != 0 && lower(c) == i32::from(b'x') {
                wp.push(c as u8);
                hexa = true;
                exp_char = i32::from(b'p');
                c = r.inchar();
                if width > 0 {
                    width -= 1;
                }
            } else {
                got_digit = true;
            }
        }
        loop {
            if is_digit(c) || (!got_e && hexa && is_xdigit(c)) {
                wp.push(c as u8);
                got_digit = true;
            } else if got_e
                && wp.last().is_some_and(|l| i32::from(*l) == exp_char)
                && (c == i32::from(b'-') || c == i32::from(b'+'))
            {
                wp.push(c as u8);
            } else if got_digit && !got_e && lower(c) == exp_char {
                wp.push(exp_char as u8);
                got_e = true;
                got_dot = true;
            } else if !got_dot && c == i32::from(b'.') {
                wp.push(b'.');
                got_dot = true;
            } else {
                r.ungetc(c);
                break;
            }
            if width == 0 || r.inchar() == EOF {
                break;
            }
            c = r.c;
            if width > 0 {
                width -= 1;
            }
        }
        if wp.is_empty() || (hexa && wp.len() == 2) {
            return Ok(Err(Stop::Match));
        }
    }
    let format = if spec.len == Len::Long || spec.long_double {
        Format::F64
    } else {
        Format::F32
    };
    let parsed = strtod::parse(&wp, format);
    if parsed.end == 0 {
        return Ok(Err(Stop::Match));
    }
    if parsed.range_error {
        out.cx.set_errno(out.mem, libc::ERANGE)?;
    }
    if !spec.suppress {
        let sign = match (negative, format) {
            (false, _) => 0,
            (true, Format::F64) => 1 << 63,
            (true, Format::F32) => 1 << 31,
        };
        let bits = parsed.bits ^ sign;
        let addr = out.arg()?;
        let size = if format == Format::F64 { 8 } else { 4 };
        out.store(addr, size, bits)?;
        *done += 1;
    }
    Ok(Ok(()))
}

/// The register value a scanf-family function returns.
pub(crate) fn count(n: i32) -> u64 {
    int_ret(n)
}
