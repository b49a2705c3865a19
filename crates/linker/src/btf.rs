//! A reader for BTF, the BPF Type Format (`.BTF` sections of objects and
//! the kernel's `/sys/kernel/btf/vmlinux`), as described in the kernel's
//! `Documentation/bpf/btf.rst`.
//!
//! Only what linking needs: every type record decoded into [`Type`], names
//! from the string table, type sizes with qualifiers and typedefs looked
//! through, and the variables of each data section (`.maps`, `.kconfig`,
//! `.ksyms`). Every offset and count is checked: a malformed section is an
//! error, never a panic.

use std::fmt;

/// `BTF_KIND_*` values.
pub mod kind {
    pub const INT: u32 = 1;
    pub const PTR: u32 = 2;
    pub const ARRAY: u32 = 3;
    pub const STRUCT: u32 = 4;
    pub const UNION: u32 = 5;
    pub const ENUM: u32 = 6;
    pub const FWD: u32 = 7;
    pub const TYPEDEF: u32 = 8;
    pub const VOLATILE: u32 = 9;
    pub const CONST: u32 = 10;
    pub const RESTRICT: u32 = 11;
    pub const FUNC: u32 = 12;
    pub const FUNC_PROTO: u32 = 13;
    pub const VAR: u32 = 14;
    pub const DATASEC: u32 = 15;
    pub const FLOAT: u32 = 16;
    pub const DECL_TAG: u32 = 17;
    pub const TYPE_TAG: u32 = 18;
    pub const ENUM64: u32 = 19;
}

/// A struct or union member: bit offset and, for bitfields, the bit size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub name: String,
    pub type_id: u32,
    pub bit_offset: u32,
    /// 0 unless the member is a bitfield.
    pub bitfield_size: u32,
}

/// An enumerator (`ENUM` and `ENUM64`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enumerator {
    pub name: String,
    pub value: i64,
}

/// A variable of a data section: its type, offset and size in the section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecVar {
    pub type_id: u32,
    pub offset: u32,
    pub size: u32,
}

/// One decoded BTF type record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Type {
    /// Type id 0.
    Void,
    Int {
        name: String,
        size: u32,
        signed: bool,
        bits: u32,
        bit_offset: u32,
    },
    Ptr(u32),
    Array {
        elem: u32,
        nelems: u32,
    },
    Struct {
        name: String,
        size: u32,
        members: Vec<Member>,
    },
    Union {
        name: String,
        size: u32,
        members: Vec<Member>,
    },
    Enum {
        name: String,
        size: u32,
        signed: bool,
        values: Vec<Enumerator>,
    },
    Fwd {
        name: String,
        is_union: bool,
    },
    Typedef {
        name: String,
        target: u32,
    },
    Volatile(u32),
    Const(u32),
    Restrict(u32),
    TypeTag(u32),
    Func {
        name: String,
        proto: u32,
        /// 0 static, 1 global, 2 extern.
        linkage: u32,
    },
    FuncProto {
        ret: u32,
        params: Vec<u32>,
    },
    Var {
        name: String,
        type_id: u32,
        /// 0 static, 1 global, 2 extern.
        linkage: u32,
    },
    DataSec {
        name: String,
        size: u32,
        vars: Vec<SecVar>,
    },
    Float {
        name: String,
        size: u32,
    },
    DeclTag {
        name: String,
        target: u32,
    },
}

/// Why a BTF section could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BtfError(pub String);

impl fmt::Display for BtfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "malformed BTF: {}", self.0)
    }
}

impl std::error::Error for BtfError {}

fn err<T>(msg: impl Into<String>) -> Result<T, BtfError> {
    Err(BtfError(msg.into()))
}

/// Most qualifier/typedef links followed before a type is called cyclic.
const MAX_CHAIN: usize = 64;

/// A parsed BTF blob: types indexed by id (0 is `void`) and their names.
#[derive(Debug, Clone, Default)]
pub struct Btf {
    types: Vec<Type>,
    strings: Vec<u8>,
}

/// A little-endian cursor over the type section.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn u32(&mut self) -> Result<u32, BtfError> {
        let b = self
            .bytes
            .get(self.pos..self.pos + 4)
            .ok_or_else(|| BtfError(format!("type record truncated at offset {}", self.pos)))?;
        self.pos += 4;
        Ok(u32::from_le_bytes(b.try_into().expect("4 bytes")))
    }
}

fn le32(b: &[u8], at: usize) -> Result<u32, BtfError> {
    b.get(at..at + 4)
        .map(|s| u32::from_le_bytes(s.try_into().expect("4 bytes")))
        .ok_or_else(|| BtfError("header truncated".to_string()))
}

impl Btf {
    /// Parses a `.BTF` section (or a raw BTF file such as vmlinux's).
    pub fn parse(bytes: &[u8]) -> Result<Btf, BtfError> {
        if bytes.len() < 24 {
            return err(format!("{} bytes is too short for a header", bytes.len()));
        }
        let magic = u16::from_le_bytes([bytes[0], bytes[1]]);
        if magic != 0xeb9f {
            return err(if magic == 0x9feb {
                "big-endian BTF is not supported".to_string()
            } else {
                format!("bad magic {magic:#x}")
            });
        }
        let hdr_len = le32(bytes, 4)? as usize;
        let type_off = le32(bytes, 8)? as usize;
        let type_len = le32(bytes, 12)? as usize;
        let str_off = le32(bytes, 16)? as usize;
        let str_len = le32(bytes, 20)? as usize;
        let slice = |off: usize, len: usize, what: &str| {
            hdr_len
                .checked_add(off)
                .and_then(|start| Some(start..start.checked_add(len)?))
                .and_then(|r| bytes.get(r))
                .ok_or_else(|| BtfError(format!("{what} section lies outside the data")))
        };
        let types = slice(type_off, type_len, "type")?;
        let strings = slice(str_off, str_len, "string")?;
        let name = |off: u32| -> Result<String, BtfError> {
            let tail = strings
                .get(off as usize..)
                .ok_or_else(|| BtfError(format!("name offset {off} is outside the strings")))?;
            let end = tail.iter().position(|b| *b == 0).unwrap_or(tail.len());
            Ok(String::from_utf8_lossy(&tail[..end]).into_owned())
        };
        let mut r = Reader {
            bytes: types,
            pos: 0,
        };
        let mut out = vec![Type::Void];
        while r.pos < types.len() {
            let name_off = r.u32()?;
            let info = r.u32()?;
            let size_or_type = r.u32()?;
            let vlen = info & 0xffff;
            let k = (info >> 24) & 0x1f;
            let kflag = info >> 31 != 0;
            let nm = name(name_off)?;
            let members = |r: &mut Reader| -> Result<Vec<Member>, BtfError> {
                (0..vlen)
                    .map(|_| {
                        let name = name(r.u32()?)?;
                        let type_id = r.u32()?;
                        let off = r.u32()?;
                        let (bit_offset, bitfield_size) = if kflag {
                            (off & 0xff_ffff, off >> 24)
                        } else {
                            (off, 0)
                        };
                        Ok(Member {
                            name,
                            type_id,
                            bit_offset,
                            bitfield_size,
                        })
                    })
                    .collect()
            };
            let t = match k {
                kind::INT => {
                    let enc = r.u32()?;
                    Type::Int {
                        name: nm,
                        size: size_or_type,
                        signed: (enc >> 24) & 1 != 0,
                        bits: enc & 0xff,
                        bit_offset: (enc >> 16) & 0xff,
                    }
                }
                kind::PTR => Type::Ptr(size_or_type),
                kind::ARRAY => {
                    let elem = r.u32()?;
                    let _index = r.u32()?;
                    let nelems = r.u32()?;
                    Type::Array { elem, nelems }
                }
                kind::STRUCT => Type::Struct {
                    name: nm,
                    size: size_or_type,
                    members: members(&mut r)?,
                },
                kind::UNION => Type::Union {
                    name: nm,
                    size: size_or_type,
                    members: members(&mut r)?,
                },
                kind::ENUM | kind::ENUM64 => {
                    let values = (0..vlen)
                        .map(|_| {
                            let n = name(r.u32()?)?;
                            let lo = r.u32()?;
                            let value = if k == kind::ENUM64 {
                                let hi = r.u32()?;
                                ((hi as u64) << 32 | lo as u64) as i64
                            } else if kflag {
                                lo as i32 as i64
                            } else {
                                lo as i64
                            };
                            Ok(Enumerator { name: n, value })
                        })
                        .collect::<Result<_, BtfError>>()?;
                    Type::Enum {
                        name: nm,
                        size: size_or_type,
                        signed: kflag,
                        values,
                    }
                }
                kind::FWD => Type::Fwd {
                    name: nm,
                    is_union: kflag,
                },
                kind::TYPEDEF => Type::Typedef {
                    name: nm,
                    target: size_or_type,
                },
                kind::VOLATILE => Type::Volatile(size_or_type),
                kind::CONST => Type::Const(size_or_type),
                kind::RESTRICT => Type::Restrict(size_or_type),
                kind::TYPE_TAG => Type::TypeTag(size_or_type),
                kind::FUNC => Type::Func {
                    name: nm,
                    proto: size_or_type,
                    linkage: vlen,
                },
                kind::FUNC_PROTO => {
                    let params = (0..vlen)
                        .map(|_| {
                            r.u32()?;
                            r.u32()
                        })
                        .collect::<Result<_, _>>()?;
                    Type::FuncProto {
                        ret: size_or_type,
                        params,
                    }
                }
                kind::VAR => Type::Var {
                    name: nm,
                    type_id: size_or_type,
                    linkage: r.u32()?,
                },
                kind::DATASEC => {
                    let vars = (0..vlen)
                        .map(|_| {
                            Ok(SecVar {
                                type_id: r.u32()?,
                                offset: r.u32()?,
                                size: r.u32()?,
                            })
                        })
                        .collect::<Result<_, BtfError>>()?;
                    Type::DataSec {
                        name: nm,
                        size: size_or_type,
                        vars,
                    }
                }
                kind::FLOAT => Type::Float {
                    name: nm,
                    size: size_or_type,
                },
                kind::DECL_TAG => {
                    r.u32()?;
                    Type::DeclTag {
                        name: nm,
                        target: size_or_type,
                    }
                }
                other => return err(format!("type #{} has unknown kind {other}", out.len())),
            };
            out.push(t);
        }
        Ok(Btf {
            types: out,
            strings: strings.to_vec(),
        })
    }

    /// Parses raw BTF (`/sys/kernel/btf/vmlinux`) or the `.BTF` section of
    /// an ELF file (a vmlinux image, or an object built with `-g`).
    pub fn parse_file(bytes: &[u8]) -> Result<Btf, BtfError> {
        if !bytes.starts_with(b"\x7fELF") {
            return Btf::parse(bytes);
        }
        use object::{Object, ObjectSection};
        let file = object::File::parse(bytes).map_err(|e| BtfError(format!("ELF: {e}")))?;
        let section = file
            .section_by_name(".BTF")
            .ok_or_else(|| BtfError("the ELF file has no .BTF section".to_string()))?;
        let data = section
            .data()
            .map_err(|e| BtfError(format!("ELF .BTF: {e}")))?;
        Btf::parse(data)
    }

    /// The string at offset `off` of the string section (`.BTF.ext`
    /// records name sections and access paths this way).
    pub fn string(&self, off: u32) -> Option<&str> {
        let tail = self.strings.get(off as usize..)?;
        let end = tail.iter().position(|b| *b == 0)?;
        std::str::from_utf8(&tail[..end]).ok()
    }

    /// Number of type ids, `void` included.
    pub fn len(&self) -> usize {
        self.types.len()
    }

    /// True when only `void` exists.
    pub fn is_empty(&self) -> bool {
        self.types.len() <= 1
    }

    /// The type with id `id`.
    pub fn get(&self, id: u32) -> Result<&Type, BtfError> {
        self.types
            .get(id as usize)
            .ok_or_else(|| BtfError(format!("type id {id} does not exist")))
    }

    /// All types with their ids.
    pub fn types(&self) -> impl Iterator<Item = (u32, &Type)> {
        self.types.iter().enumerate().map(|(i, t)| (i as u32, t))
    }

    /// `id` with typedefs and qualifiers (const, volatile, restrict, type
    /// tags) looked through.
    pub fn skip_mods(&self, mut id: u32) -> Result<u32, BtfError> {
        for _ in 0..MAX_CHAIN {
            match self.get(id)? {
                Type::Typedef { target, .. }
                | Type::Volatile(target)
                | Type::Const(target)
                | Type::Restrict(target)
                | Type::TypeTag(target) => id = *target,
                _ => return Ok(id),
            }
        }
        err(format!("type id {id} is part of a cycle"))
    }

    /// The size in bytes of a type, as `sizeof` gives it.
    pub fn size_of(&self, id: u32) -> Result<u64, BtfError> {
        let mut id = id;
        let mut scale: u64 = 1;
        for _ in 0..MAX_CHAIN {
            id = self.skip_mods(id)?;
            let size = match self.get(id)? {
                Type::Int { size, .. }
                | Type::Struct { size, .. }
                | Type::Union { size, .. }
                | Type::Enum { size, .. }
                | Type::Float { size, .. }
                | Type::DataSec { size, .. } => *size as u64,
                Type::Ptr(_) => 8,
                Type::Array { elem, nelems } => {
                    scale = scale
                        .checked_mul(*nelems as u64)
                        .ok_or_else(|| BtfError("array size overflows".to_string()))?;
                    id = *elem;
                    continue;
                }
                Type::Var { type_id, .. } => {
                    id = *type_id;
                    continue;
                }
                t => return err(format!("type id {id} ({}) has no size", kind_name(t))),
            };
            return scale
                .checked_mul(size)
                .ok_or_else(|| BtfError("type size overflows".to_string()));
        }
        err(format!("type id {id} is nested too deeply"))
    }

    /// The variables of the data section named `name`, if the BTF has one.
    pub fn datasec(&self, name: &str) -> Option<&[SecVar]> {
        self.types.iter().find_map(|t| match t {
            Type::DataSec { name: n, vars, .. } if n == name => Some(vars.as_slice()),
            _ => None,
        })
    }

    /// The name a type declares (empty for anonymous and unnamed kinds).
    pub fn name_of(&self, id: u32) -> &str {
        match self.types.get(id as usize) {
            Some(
                Type::Int { name, .. }
                | Type::Struct { name, .. }
                | Type::Union { name, .. }
                | Type::Enum { name, .. }
                | Type::Fwd { name, .. }
                | Type::Typedef { name, .. }
                | Type::Func { name, .. }
                | Type::Var { name, .. }
                | Type::DataSec { name, .. }
                | Type::Float { name, .. }
                | Type::DeclTag { name, .. },
            ) => name,
            _ => "",
        }
    }

    /// A C-like spelling of a type for messages: `struct task_struct`,
    /// `int`, `u32 *`.
    pub fn describe(&self, id: u32) -> String {
        let mut suffix = String::new();
        let mut id = id;
        for _ in 0..MAX_CHAIN {
            let Ok(t) = self.get(id) else {
                return format!("<type #{id}>");
            };
            let base = match t {
                Type::Void => "void".to_string(),
                Type::Struct { name, .. } => format!("struct {}", anon(name)),
                Type::Union { name, .. } => format!("union {}", anon(name)),
                Type::Enum { name, .. } => format!("enum {}", anon(name)),
                Type::Fwd { name, is_union } => {
                    format!("{} {name}", if *is_union { "union" } else { "struct" })
                }
                Type::Ptr(to) => {
                    suffix.insert_str(0, " *");
                    id = *to;
                    continue;
                }
                Type::Const(to) | Type::Volatile(to) | Type::Restrict(to) | Type::TypeTag(to) => {
                    id = *to;
                    continue;
                }
                Type::Array { elem, nelems } => {
                    suffix.push_str(&format!("[{nelems}]"));
                    id = *elem;
                    continue;
                }
                Type::FuncProto { .. } => "function".to_string(),
                other => {
                    let n = self.name_of(id);
                    if n.is_empty() {
                        kind_name(other).to_string()
                    } else {
                        n.to_string()
                    }
                }
            };
            return format!("{base}{suffix}");
        }
        format!("<type #{id}>")
    }
}

fn anon(name: &str) -> &str {
    if name.is_empty() {
        "<anon>"
    } else {
        name
    }
}

/// The kind of a type, for messages.
pub fn kind_name(t: &Type) -> &'static str {
    match t {
        Type::Void => "void",
        Type::Int { .. } => "int",
        Type::Ptr(_) => "pointer",
        Type::Array { .. } => "array",
        Type::Struct { .. } => "struct",
        Type::Union { .. } => "union",
        Type::Enum { .. } => "enum",
        Type::Fwd { .. } => "forward declaration",
        Type::Typedef { .. } => "typedef",
        Type::Volatile(_) => "volatile",
        Type::Const(_) => "const",
        Type::Restrict(_) => "restrict",
        Type::TypeTag(_) => "type tag",
        Type::Func { .. } => "function",
        Type::FuncProto { .. } => "function prototype",
        Type::Var { .. } => "variable",
        Type::DataSec { .. } => "data section",
        Type::Float { .. } => "float",
        Type::DeclTag { .. } => "declaration tag",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a BTF blob from raw type words and a string table.
    pub(crate) fn blob(types: &[u32], strings: &[u8]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&0xeb9fu16.to_le_bytes());
        b.extend_from_slice(&[1, 0]);
        b.extend_from_slice(&24u32.to_le_bytes());
        let tlen = (types.len() * 4) as u32;
        for v in [0, tlen, tlen, strings.len() as u32] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        for t in types {
            b.extend_from_slice(&t.to_le_bytes());
        }
        b.extend_from_slice(strings);
        b
    }

    fn info(kind: u32, vlen: u32) -> u32 {
        kind << 24 | vlen
    }

    #[test]
    fn sizes_follow_typedefs_arrays_and_qualifiers() {
        // 1: int (4 bytes), 2: typedef u32 -> 1, 3: const 2, 4: array of 3 x5,
        // 5: struct s { int a; u32 b[5]; } size 24, 6: ptr -> 5
        let strings = b"\0int\0u32\0s\0a\0b\0";
        let types = [
            1,
            info(kind::INT, 0),
            4,
            (1 << 24) | 32, // int (signed)
            5,
            info(kind::TYPEDEF, 0),
            1, // u32
            0,
            info(kind::CONST, 0),
            2,
            0,
            info(kind::ARRAY, 0),
            0,
            3,
            1,
            5,
            9,
            info(kind::STRUCT, 2),
            24,
            11,
            1,
            0,
            13,
            4,
            32,
            0,
            info(kind::PTR, 0),
            5,
        ];
        let btf = Btf::parse(&blob(&types, strings)).unwrap();
        assert_eq!(btf.len(), 7);
        assert_eq!(btf.size_of(1).unwrap(), 4);
        assert_eq!(btf.size_of(3).unwrap(), 4);
        assert_eq!(btf.size_of(4).unwrap(), 20);
        assert_eq!(btf.size_of(5).unwrap(), 24);
        assert_eq!(btf.size_of(6).unwrap(), 8);
        assert_eq!(btf.describe(6), "struct s *");
        assert_eq!(btf.describe(4), "u32[5]");
        match btf.get(5).unwrap() {
            Type::Struct { members, .. } => {
                assert_eq!(members[1].name, "b");
                assert_eq!(members[1].bit_offset, 32);
            }
            t => panic!("{t:?}"),
        }
        assert!(matches!(
            btf.get(1).unwrap(),
            Type::Int { signed: true, .. }
        ));
    }

    #[test]
    fn malformed_blobs_are_errors() {
        assert!(Btf::parse(&[0; 10]).is_err());
        let mut b = blob(&[1, info(kind::INT, 0), 4], b"\0int\0");
        assert!(Btf::parse(&b).is_err(), "truncated INT record");
        b = blob(&[1, info(31, 0), 4], b"\0int\0");
        assert!(Btf::parse(&b).is_err(), "unknown kind");
        b = blob(&[100, info(kind::PTR, 0), 0], b"\0");
        assert!(Btf::parse(&b).is_err(), "name outside strings");
        // A typedef cycle is an error, not a hang.
        b = blob(&[0, info(kind::TYPEDEF, 0), 1], b"\0");
        let btf = Btf::parse(&b).unwrap();
        assert!(btf.size_of(1).is_err());
    }
}
