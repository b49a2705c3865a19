//! A model of C types as the debug information describes them, and their
//! spelling in C (`int (*)(int)`, `const char *const`, `struct point[2]`).
//!
//! Types are plain trees: a record reached through a pointer is kept by
//! name only (see [`CType::Record::fields_known`]), so self-referential
//! and mutually referential types stay finite.

use std::fmt;

/// A C type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CType {
    /// `void`.
    Void,
    /// `_Bool`.
    Bool,
    /// A one-byte character type: `char` (`explicit_sign == false`, its
    /// signedness is the target's), `signed char` or `unsigned char`.
    Char { signed: bool, explicit_sign: bool },
    /// Any other integer type, by its DWARF name (`int`, `unsigned long`,
    /// `__int128`).
    Int {
        name: String,
        size: u64,
        signed: bool,
    },
    /// A floating type (`float`, `double`).
    Float { name: String, size: u64 },
    /// A pointer to the target type (`void *` has target [`CType::Void`]).
    Pointer(Box<CType>),
    /// An array; `count` is `None` when the bound is unknown (`int[]`, a
    /// flexible array member, a variable-length array).
    Array {
        elem: Box<CType>,
        count: Option<u64>,
    },
    /// A `struct` or `union`.
    Record {
        union: bool,
        /// The tag (`point` in `struct point`); `None` when anonymous.
        name: Option<String>,
        size: u64,
        /// Members in declaration order. Empty when `fields_known` is false.
        fields: Vec<Field>,
        /// False when the members were not read: a forward declaration,
        /// or a record only reached through a pointer (printing a pointer
        /// never needs them).
        fields_known: bool,
    },
    /// An `enum` with its enumerators, values as `i64` bit patterns.
    Enum {
        name: Option<String>,
        size: u64,
        signed: bool,
        enumerators: Vec<(String, i64)>,
    },
    /// A `typedef` name standing for its target.
    Typedef { name: String, target: Box<CType> },
    /// A qualified type (`const`, `volatile`, `restrict`, `_Atomic`).
    Qualified {
        quals: Qualifiers,
        target: Box<CType>,
    },
    /// A function type. `prototyped` is false for `int ()`, which says
    /// nothing about the parameters.
    Function {
        ret: Box<CType>,
        params: Vec<CType>,
        variadic: bool,
        prototyped: bool,
    },
    /// A type the reader could not model; the reason says why (an
    /// unsupported DWARF tag, a malformed or recursive description).
    Unknown { reason: String },
}

/// A member of a struct or union.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// `None` for an anonymous struct/union member or an unnamed bit-field.
    pub name: Option<String>,
    /// Byte offset from the start of the record (for a bit-field, of the
    /// byte holding its first bit).
    pub offset: u64,
    pub ty: CType,
    /// Width in bits, for a bit-field.
    pub bit_size: Option<u64>,
    /// For a bit-field: offset of its first bit from the start of the
    /// record, counting from the least significant bit of byte 0 (DWARF 5
    /// `DW_AT_data_bit_offset` on a little-endian target).
    pub bit_offset: Option<u64>,
}

/// Type qualifiers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Qualifiers {
    pub is_const: bool,
    pub is_volatile: bool,
    pub is_restrict: bool,
    pub is_atomic: bool,
}

impl Qualifiers {
    /// True if no qualifier is set.
    pub fn is_empty(self) -> bool {
        self == Qualifiers::default()
    }

    /// `const`, `volatile` and `restrict` in C's usual order, space
    /// separated (`_Atomic` is spelled as a specifier, `_Atomic(T)`).
    fn keywords(self) -> String {
        let mut words = Vec::new();
        if self.is_const {
            words.push("const");
        }
        if self.is_volatile {
            words.push("volatile");
        }
        if self.is_restrict {
            words.push("restrict");
        }
        words.join(" ")
    }
}

impl CType {
    /// The type's name as C spells it in a cast or `sizeof`: `int *`,
    /// `int (*)(int)`, `int[3]`, `char *const[2]`, `const char *const`,
    /// `struct point`, `size_t`.
    pub fn c_name(&self) -> String {
        self.spell(String::new())
    }

    /// The C spelling with every typedef replaced by what it names, for an
    /// "aka" next to a typedef name (`size_t` is `unsigned long`).
    pub fn desugared_name(&self) -> String {
        self.desugared().c_name()
    }

    /// A copy with every typedef replaced by its target, at any depth
    /// (members of records included).
    pub fn desugared(&self) -> CType {
        match self {
            CType::Typedef { target, .. } => target.desugared(),
            CType::Pointer(t) => CType::Pointer(Box::new(t.desugared())),
            CType::Array { elem, count } => CType::Array {
                elem: Box::new(elem.desugared()),
                count: *count,
            },
            CType::Qualified { quals, target } => CType::Qualified {
                quals: *quals,
                target: Box::new(target.desugared()),
            },
            CType::Function {
                ret,
                params,
                variadic,
                prototyped,
            } => CType::Function {
                ret: Box::new(ret.desugared()),
                params: params.iter().map(CType::desugared).collect(),
                variadic: *variadic,
                prototyped: *prototyped,
            },
            CType::Record {
                union,
                name,
                size,
                fields,
                fields_known,
            } => CType::Record {
                union: *union,
                name: name.clone(),
                size: *size,
                fields: fields
                    .iter()
                    .map(|f| Field {
                        ty: f.ty.desugared(),
                        ..f.clone()
                    })
                    .collect(),
                fields_known: *fields_known,
            },
            other => other.clone(),
        }
    }

    /// Size in bytes (`sizeof`); 0 for `void`, functions, unknown types and
    /// arrays of unknown bound. Saturates instead of overflowing.
    pub fn size(&self) -> u64 {
        match self {
            CType::Void | CType::Function { .. } | CType::Unknown { .. } => 0,
            CType::Bool | CType::Char { .. } => 1,
            CType::Int { size, .. }
            | CType::Float { size, .. }
            | CType::Record { size, .. }
            | CType::Enum { size, .. } => *size,
            CType::Pointer(_) => 8,
            CType::Array { elem, count } => count.unwrap_or(0).saturating_mul(elem.size()),
            CType::Typedef { target, .. } | CType::Qualified { target, .. } => target.size(),
        }
    }

    /// The type with outer typedefs removed (qualifiers kept).
    pub fn strip_typedefs(&self) -> &CType {
        let mut t = self;
        while let CType::Typedef { target, .. } = t {
            t = target;
        }
        t
    }

    /// The type with outer typedefs and qualifiers removed: what kind of
    /// value it is.
    pub fn unqualified(&self) -> &CType {
        let mut t = self;
        loop {
            match t {
                CType::Typedef { target, .. } | CType::Qualified { target, .. } => t = target,
                _ => return t,
            }
        }
    }

    /// True for `void` (through typedefs and qualifiers).
    pub fn is_void(&self) -> bool {
        matches!(self.unqualified(), CType::Void)
    }

    /// True for plain `char` (through typedefs and qualifiers): the
    /// character type whose arrays and pointers are printed as strings.
    pub fn is_plain_char(&self) -> bool {
        matches!(
            self.unqualified(),
            CType::Char {
                explicit_sign: false,
                ..
            }
        )
    }

    /// True for integer-like types whose values are signed (integers,
    /// characters, enums), through typedefs and qualifiers.
    pub fn is_signed(&self) -> bool {
        match self.unqualified() {
            CType::Char { signed, .. } | CType::Int { signed, .. } | CType::Enum { signed, .. } => {
                *signed
            }
            _ => false,
        }
    }

    /// Spells the type around a declarator (`decl` is what is being
    /// declared so far: `*`, `[3]`, `(*)(int)`...), C's inside-out rule.
    fn spell(&self, decl: String) -> String {
        match self {
            CType::Pointer(target) => target.spell(format!("*{decl}")),
            CType::Array { elem, count } => {
                let bound = count.map(|n| n.to_string()).unwrap_or_default();
                let decl = if decl.starts_with('*') {
                    format!("({decl})[{bound}]")
                } else {
                    format!("{decl}[{bound}]")
                };
                elem.spell(decl)
            }
            CType::Function {
                ret,
                params,
                variadic,
                prototyped,
            } => {
                let mut list: Vec<String> = params.iter().map(CType::c_name).collect();
                if *prototyped && *variadic {
                    list.push("...".to_string());
                }
                let list = if *prototyped && list.is_empty() {
                    "void".to_string()
                } else if *prototyped {
                    list.join(", ")
                } else {
                    String::new()
                };
                let decl = if decl.starts_with('*') {
                    format!("({decl})({list})")
                } else {
                    format!("{decl}({list})")
                };
                ret.spell(decl)
            }
            CType::Qualified { quals, target } => spell_qualified(*quals, target, decl),
            _ => join_declarator(self.base_name(), &decl),
        }
    }

    /// The name of a type that takes no declarator syntax.
    fn base_name(&self) -> String {
        match self {
            CType::Void => "void".to_string(),
            CType::Bool => "_Bool".to_string(),
            CType::Char {
                explicit_sign: false,
                ..
            } => "char".to_string(),
            CType::Char { signed: true, .. } => "signed char".to_string(),
            CType::Char { signed: false, .. } => "unsigned char".to_string(),
            CType::Int { name, .. } | CType::Float { name, .. } => name.clone(),
            CType::Record { union, name, .. } => {
                let keyword = if *union { "union" } else { "struct" };
                match name {
                    Some(n) => format!("{keyword} {n}"),
                    None => format!("{keyword} (unnamed)"),
                }
            }
            CType::Enum { name, .. } => match name {
                Some(n) => format!("enum {n}"),
                None => "enum (unnamed)".to_string(),
            },
            CType::Typedef { name, .. } => name.clone(),
            CType::Unknown { reason } => format!("<{reason}>"),
            // Declarator types never reach here (see `spell`).
            CType::Pointer(_)
            | CType::Array { .. }
            | CType::Function { .. }
            | CType::Qualified { .. } => self.c_name(),
        }
    }
}

/// Spells a qualified type: qualifiers of a pointer follow its `*`
/// (`char *const`); qualifiers of an array apply to its elements; others
/// precede the type (`const int`).
fn spell_qualified(quals: Qualifiers, target: &CType, decl: String) -> String {
    match target {
        CType::Qualified {
            quals: inner,
            target,
        } => {
            let merged = Qualifiers {
                is_const: quals.is_const || inner.is_const,
                is_volatile: quals.is_volatile || inner.is_volatile,
                is_restrict: quals.is_restrict || inner.is_restrict,
                is_atomic: quals.is_atomic || inner.is_atomic,
            };
            spell_qualified(merged, target, decl)
        }
        CType::Pointer(pointee) if !quals.is_atomic => {
            let words = quals.keywords();
            let sep = if decl.is_empty() || decl.starts_with('[') {
                ""
            } else {
                " "
            };
            pointee.spell(format!("*{words}{sep}{decl}"))
        }
        CType::Array { elem, count } => CType::Array {
            elem: Box::new(CType::Qualified {
                quals,
                target: elem.clone(),
            }),
            count: *count,
        }
        .spell(decl),
        CType::Function { .. } => target.spell(decl),
        _ if quals.is_empty() => target.spell(decl),
        _ => {
            let words = quals.keywords();
            let inner = if quals.is_atomic {
                join_declarator(format!("_Atomic({})", target.c_name()), &decl)
            } else {
                target.spell(decl)
            };
            if words.is_empty() {
                inner
            } else {
                format!("{words} {inner}")
            }
        }
    }
}

/// `int` + `*p` -> `int *p`; `int` + `[3]` -> `int[3]`; `int` + `` -> `int`.
fn join_declarator(base: String, decl: &str) -> String {
    if decl.is_empty() {
        base
    } else if decl.starts_with('[') {
        format!("{base}{decl}")
    } else {
        format!("{base} {decl}")
    }
}

impl fmt::Display for CType {
    /// Writes [`CType::c_name`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.c_name())
    }
}
