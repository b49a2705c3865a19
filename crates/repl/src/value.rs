//! Prints a value of a C type the way a C programmer reads it:
//! `(int) 42`, `(const char *) "hi"`, `(struct point) {.x = 1, .y = 2}`.
//!
//! The rules, per kind of type:
//! - integers in decimal; `_Bool` as `true`/`false`; floating types with
//!   the shortest digits that read back exactly (`1.5`, `2.0`, `1e300`);
//! - plain `char` as a character literal (`'a'`, `'\n'`, `'\xff'`);
//!   `signed char` and `unsigned char` as numbers: they are C's one-byte
//!   integers (`int8_t`, `uint8_t`), while plain `char` is for text;
//! - enums by enumerator name, or the number when none matches;
//! - pointers in hex, `NULL` for 0; a pointer to plain `char` as the string
//!   it points to (`0x… <invalid pointer>` when that is unreadable); a
//!   function pointer with the function it points to (`0x100000010 <fib>`);
//!   every other pointer (to structs, to pointers, `void *`) as an address
//!   only, so self-referential data never recurses;
//! - arrays element by element, `char` arrays as strings up to the first
//!   NUL; records as designated initializers, anonymous members
//!   positionally, unions with every member (each is a view of the same
//!   bytes);
//! - a typedef by its own name only: the name is what the program wrote,
//!   the value shows what it is, and [`crate::ctype::CType::desugared_name`]
//!   gives the underlying type where a caller wants an "aka".
//!
//! Strings are escaped like C source and cut after
//! [`FormatOptions::max_string_len`] bytes (`"aaa"...`), arrays after
//! [`FormatOptions::max_elements`] elements (`{0, 1, ...}`), nesting after
//! [`FormatOptions::max_depth`] levels (`{...}`).

use crate::ctype::{CType, Field};

/// Read access to the memory a value's pointers point into.
pub trait ReadMemory {
    /// `len` bytes at `addr`, or `None` if any of them is unreadable.
    fn read(&self, addr: u64, len: usize) -> Option<Vec<u8>>;

    /// Why `addr` cannot be read, when there is more to say than that it
    /// is unreadable (e.g. `freed heap memory`).
    fn why_unreadable(&self, _addr: u64) -> Option<String> {
        None
    }
}

impl ReadMemory for bpf_vm::Memory {
    fn read(&self, addr: u64, len: usize) -> Option<Vec<u8>> {
        self.slice_unshadowed(addr, len).ok().map(<[u8]>::to_vec)
    }
}

/// Limits on how much of a value is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FormatOptions {
    /// Bytes of a string printed before `...`.
    pub max_string_len: usize,
    /// Elements of an array printed before `...`.
    pub max_elements: usize,
    /// Nesting of records and arrays printed before `{...}`.
    pub max_depth: usize,
}

impl Default for FormatOptions {
    fn default() -> Self {
        FormatOptions {
            max_string_len: 256,
            max_elements: 64,
            max_depth: 16,
        }
    }
}

/// Formats a value as `(type) value`, e.g. `(int) 42`; `bytes` is the
/// value's object representation (little-endian), `mem` is where its
/// pointers point, `symbolize` names the function at a code address.
pub fn format_value(
    ty: &CType,
    bytes: &[u8],
    mem: &dyn ReadMemory,
    symbolize: &dyn Fn(u64) -> Option<String>,
) -> String {
    format_value_with(ty, bytes, mem, symbolize, &FormatOptions::default())
}

/// [`format_value`] with explicit limits. A `void` value prints as `(void)`.
pub fn format_value_with(
    ty: &CType,
    bytes: &[u8],
    mem: &dyn ReadMemory,
    symbolize: &dyn Fn(u64) -> Option<String>,
    options: &FormatOptions,
) -> String {
    if ty.is_void() {
        return format!("({})", ty.c_name());
    }
    let printer = Printer {
        mem,
        symbolize,
        options,
    };
    format!("({}) {}", ty.c_name(), printer.value(ty, bytes, 0))
}

/// Formats just the value, without the `(type) ` prefix.
pub fn format_bare_value(
    ty: &CType,
    bytes: &[u8],
    mem: &dyn ReadMemory,
    symbolize: &dyn Fn(u64) -> Option<String>,
    options: &FormatOptions,
) -> String {
    Printer {
        mem,
        symbolize,
        options,
    }
    .value(ty, bytes, 0)
}

/// A C character literal for one byte: `'a'`, `'\n'`, `'\''`, `'\xff'`.
pub fn char_literal(byte: u8) -> String {
    let body = match byte {
        b'\'' => "\\'".to_string(),
        b'"' => "\"".to_string(),
        0 => "\\0".to_string(),
        b => match simple_escape(b) {
            Some(e) => e.to_string(),
            None if is_printable_ascii(b) => (b as char).to_string(),
            None => format!("\\x{b:02x}"),
        },
    };
    format!("'{body}'")
}

/// A C string literal for bytes (without the terminating NUL): printable
/// ASCII and valid UTF-8 text as is, `\n`-style escapes, `\xHH` for any
/// other byte. A `\xHH` followed by a hex digit closes the literal and opens
/// another (`"\x01" "a"`), since C would read the digit into the escape.
pub fn string_literal(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    out.push('"');
    let mut after_hex_escape = false;
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c.is_ascii() {
                let b = c as u8;
                if let Some(e) = simple_escape(b) {
                    out.push_str(e);
                    after_hex_escape = false;
                } else if b == b'"' {
                    out.push_str("\\\"");
                    after_hex_escape = false;
                } else if is_printable_ascii(b) {
                    if after_hex_escape && b.is_ascii_hexdigit() {
                        out.push_str("\" \"");
                    }
                    out.push(c);
                    after_hex_escape = false;
                } else {
                    out.push_str(&format!("\\x{b:02x}"));
                    after_hex_escape = true;
                }
            } else if c.is_control() {
                let mut buf = [0; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("\\x{b:02x}"));
                }
                after_hex_escape = true;
            } else {
                out.push(c);
                after_hex_escape = false;
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
            after_hex_escape = true;
        }
    }
    out.push('"');
    out
}

/// C's named escapes (shared by character and string literals).
fn simple_escape(b: u8) -> Option<&'static str> {
    Some(match b {
        b'\\' => "\\\\",
        b'\n' => "\\n",
        b'\t' => "\\t",
        b'\r' => "\\r",
        0x07 => "\\a",
        0x08 => "\\b",
        0x0c => "\\f",
        0x0b => "\\v",
        _ => return None,
    })
}

fn is_printable_ascii(b: u8) -> bool {
    (0x20..0x7f).contains(&b)
}

/// Formats values with the memory, symbolizer and limits of one call.
struct Printer<'p> {
    mem: &'p dyn ReadMemory,
    symbolize: &'p dyn Fn(u64) -> Option<String>,
    options: &'p FormatOptions,
}

const UNAVAILABLE: &str = "<unavailable>";

impl Printer<'_> {
    /// The value of `ty` held in `bytes` (at least `ty.size()` of them).
    fn value(&self, ty: &CType, bytes: &[u8], depth: usize) -> String {
        match ty {
            CType::Typedef { target, .. } | CType::Qualified { target, .. } => {
                self.value(target, bytes, depth)
            }
            CType::Void => "<void>".to_string(),
            CType::Bool => match bytes.first() {
                Some(0) => "false".to_string(),
                Some(1) => "true".to_string(),
                Some(b) => b.to_string(),
                None => UNAVAILABLE.to_string(),
            },
            CType::Char {
                signed,
                explicit_sign,
            } => match bytes.first() {
                None => UNAVAILABLE.to_string(),
                Some(&b) if !explicit_sign => char_literal(b),
                Some(&b) if *signed => (b as i8).to_string(),
                Some(&b) => b.to_string(),
            },
            CType::Int { size, signed, .. } => integer(bytes, *size, *signed),
            CType::Float { size, .. } => float(bytes, *size),
            CType::Enum {
                size,
                signed,
                enumerators,
                ..
            } => enumeration(bytes, *size, *signed, enumerators),
            CType::Pointer(target) => match read_uint(bytes, 8) {
                Some(addr) => self.pointer(target, addr as u64),
                None => UNAVAILABLE.to_string(),
            },
            CType::Array { elem, count } => self.array(elem, *count, bytes, depth),
            CType::Record {
                fields,
                fields_known,
                ..
            } => {
                if !fields_known {
                    "<incomplete type>".to_string()
                } else {
                    self.record(fields, bytes, depth)
                }
            }
            CType::Function { .. } => "<function>".to_string(),
            CType::Unknown { .. } => "<value of unknown type>".to_string(),
        }
    }

    fn pointer(&self, target: &CType, addr: u64) -> String {
        if addr == 0 {
            return "NULL".to_string();
        }
        if target.is_plain_char() {
            return self.string_at(addr);
        }
        if matches!(target.unqualified(), CType::Function { .. }) {
            if let Some(name) = (self.symbolize)(addr) {
                return format!("{addr:#x} <{name}>");
            }
        }
        format!("{addr:#x}")
    }

    /// The NUL-terminated string at `addr`, read a chunk at a time (then a
    /// byte at a time near the end of readable memory).
    fn string_at(&self, addr: u64) -> String {
        const CHUNK: usize = 64;
        let limit = self.options.max_string_len;
        let mut text: Vec<u8> = Vec::new();
        let mut chunk = CHUNK;
        loop {
            let at = addr.wrapping_add(text.len() as u64);
            let piece = match self.mem.read(at, chunk) {
                Some(p) => p,
                None if chunk > 1 => {
                    chunk = 1;
                    continue;
                }
                None if text.is_empty() => {
                    let why = self.mem.why_unreadable(addr);
                    return format!(
                        "{addr:#x} <{}>",
                        why.as_deref().unwrap_or("invalid pointer")
                    );
                }
                None => {
                    let why = self.mem.why_unreadable(at);
                    let why = why.unwrap_or_else(|| format!("{at:#x} is unreadable"));
                    return format!("{}<unterminated: {why}>", string_literal(&text));
                }
            };
            match piece.iter().position(|&b| b == 0) {
                Some(nul) => {
                    text.extend_from_slice(&piece[..nul]);
                    return self.truncated_string(&text);
                }
                None => text.extend_from_slice(&piece),
            }
            if text.len() > limit {
                return self.truncated_string(&text);
            }
        }
    }

    /// A string literal of at most `max_string_len` bytes, `...` after it
    /// when cut.
    fn truncated_string(&self, text: &[u8]) -> String {
        let limit = self.options.max_string_len;
        if text.len() > limit {
            format!("{}...", string_literal(&text[..limit]))
        } else {
            string_literal(text)
        }
    }

    fn array(&self, elem: &CType, count: Option<u64>, bytes: &[u8], depth: usize) -> String {
        let count = count.unwrap_or(0);
        if elem.is_plain_char() {
            let n = usize::try_from(count)
                .unwrap_or(usize::MAX)
                .min(bytes.len());
            let text = &bytes[..n];
            let end = text.iter().position(|&b| b == 0).unwrap_or(n);
            return self.truncated_string(&text[..end]);
        }
        if depth >= self.options.max_depth {
            return "{...}".to_string();
        }
        let size = elem.size();
        let shown = count.min(self.options.max_elements as u64);
        let mut parts = Vec::new();
        for i in 0..shown {
            let part = i
                .checked_mul(size)
                .and_then(|start| slice(bytes, start, size))
                .map(|b| self.value(elem, b, depth + 1))
                .unwrap_or_else(|| UNAVAILABLE.to_string());
            parts.push(part);
        }
        if count > shown {
            parts.push("...".to_string());
        }
        format!("{{{}}}", parts.join(", "))
    }

    fn record(&self, fields: &[Field], bytes: &[u8], depth: usize) -> String {
        if depth >= self.options.max_depth {
            return "{...}".to_string();
        }
        let mut parts = Vec::new();
        for field in fields {
            if field.name.is_none() && field.bit_size.is_some() {
                continue; // unnamed bit-fields are padding
            }
            let value = match field.bit_size {
                Some(bits) => self.bit_field(field, bits, bytes, depth),
                None => match slice(bytes, field.offset, field.ty.size()) {
                    Some(b) => self.value(&field.ty, b, depth + 1),
                    None => UNAVAILABLE.to_string(),
                },
            };
            parts.push(match &field.name {
                Some(name) => format!(".{name} = {value}"),
                None => value,
            });
        }
        format!("{{{}}}", parts.join(", "))
    }

    /// Extracts a bit-field (little-endian bit numbering), sign-extends it
    /// for a signed type, and prints it as a value of its type.
    fn bit_field(&self, field: &Field, bits: u64, bytes: &[u8], depth: usize) -> String {
        let first = field.bit_offset.unwrap_or(field.offset.saturating_mul(8));
        let size = field.ty.size();
        if bits == 0 || bits > 128 || size == 0 || size > 16 {
            return "<bad bit-field>".to_string();
        }
        let mut raw: u128 = 0;
        for i in 0..bits {
            let Some(bit) = first.checked_add(i) else {
                return UNAVAILABLE.to_string();
            };
            let Some(byte) = usize::try_from(bit / 8).ok().and_then(|b| bytes.get(b)) else {
                return UNAVAILABLE.to_string();
            };
            raw |= u128::from((byte >> (bit % 8)) & 1) << i;
        }
        let value = if field.ty.is_signed() {
            sign_extend(raw, bits as u32) as u128
        } else {
            raw
        };
        let encoded = value.to_le_bytes();
        self.value(&field.ty, &encoded[..size as usize], depth + 1)
    }
}

/// `len` bytes at `start`, if all are present.
fn slice(bytes: &[u8], start: u64, len: u64) -> Option<&[u8]> {
    let start = usize::try_from(start).ok()?;
    let end = start.checked_add(usize::try_from(len).ok()?)?;
    bytes.get(start..end)
}

/// A little-endian unsigned number of 1 to 16 bytes.
fn read_uint(bytes: &[u8], size: u64) -> Option<u128> {
    if size == 0 || size > 16 {
        return None;
    }
    let b = bytes.get(..size as usize)?;
    Some(
        b.iter()
            .rev()
            .fold(0u128, |acc, &byte| (acc << 8) | u128::from(byte)),
    )
}

/// Reads the low `bits` bits of `raw` as a two's complement number.
fn sign_extend(raw: u128, bits: u32) -> i128 {
    if bits == 0 || bits >= 128 {
        return raw as i128;
    }
    let shift = 128 - bits;
    ((raw << shift) as i128) >> shift
}

fn integer(bytes: &[u8], size: u64, signed: bool) -> String {
    if size == 0 || size > 16 {
        return format!("<{size}-byte integer>");
    }
    match read_uint(bytes, size) {
        Some(raw) if signed => sign_extend(raw, size as u32 * 8).to_string(),
        Some(raw) => raw.to_string(),
        None => UNAVAILABLE.to_string(),
    }
}

fn float(bytes: &[u8], size: u64) -> String {
    let text = match (size, read_uint(bytes, size)) {
        (4, Some(raw)) => format!("{:?}", f32::from_bits(raw as u32)),
        (8, Some(raw)) => format!("{:?}", f64::from_bits(raw as u64)),
        (4 | 8, None) => return UNAVAILABLE.to_string(),
        _ => return format!("<{size}-byte floating value>"),
    };
    // Rust's "NaN" is C's "nan" (as printf's %g prints it).
    text.replace("NaN", "nan")
}

fn enumeration(bytes: &[u8], size: u64, signed: bool, enumerators: &[(String, i64)]) -> String {
    if size == 0 || size > 16 {
        return format!("<{size}-byte enum>");
    }
    let Some(raw) = read_uint(bytes, size) else {
        return UNAVAILABLE.to_string();
    };
    let mask = if size >= 16 {
        u128::MAX
    } else {
        (1u128 << (size * 8)) - 1
    };
    for (name, value) in enumerators {
        if (*value as i128 as u128) & mask == raw {
            return name.clone();
        }
    }
    if signed {
        sign_extend(raw, size as u32 * 8).to_string()
    } else {
        raw.to_string()
    }
}
