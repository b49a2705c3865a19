//! Reads the C types of global variables and functions out of an object's
//! DWARF (`clang -g`), with `gimli`.
//!
//! Everything is read once, when a [`DebugInfo`] is made: each global
//! variable and function named at the top level of a compilation unit,
//! with its type converted to a [`CType`]. Nothing borrows the section
//! bytes afterwards.
//!
//! Hostile or odd DWARF never panics and never loops: a type reference
//! that cannot be followed, an unsupported tag, a cycle, nesting deeper
//! than [`MAX_TYPE_DEPTH`] or a description larger than [`MAX_TYPE_DIES`]
//! entries becomes [`CType::Unknown`] with the reason. Records reached
//! through a pointer are read by name only (except right behind a global's
//! own pointer), which keeps self-referential types
//! (`struct node { struct node *next; }`) finite.

use crate::ctype::{CType, Field, Qualifiers};
use bpf_linker::graph::SectionKind;
use bpf_linker::LinkGraph;
use gimli::{AttributeValue, DebuggingInformationEntry, DwAt, UnitOffset};
use std::convert::Infallible;
use std::fmt;

/// Deepest chain of type entries followed for one type (pointer to
/// array of typedef of ...).
pub const MAX_TYPE_DEPTH: usize = 64;
/// Most debugging entries read to describe one global's type.
pub const MAX_TYPE_DIES: usize = 20_000;

type Slice<'a> = gimli::EndianSlice<'a, gimli::LittleEndian>;
type Dwarf<R> = gimli::Dwarf<R>;
type Unit<R> = gimli::Unit<R>;
type Die<R> = DebuggingInformationEntry<R>;

/// What the reader works on: any gimli reader over a whole section.
pub trait Sections: gimli::Reader<Offset = usize> {}
impl<R: gimli::Reader<Offset = usize>> Sections for R {}

/// A global variable or function described by the debug information.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Global {
    pub name: String,
    /// The variable's type, or the function's [`CType::Function`] type.
    pub ty: CType,
    /// False for a declaration only (`extern int x;`, a called prototype).
    pub defined: bool,
}

/// Types of the globals of one object, from its DWARF.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DebugInfo {
    variables: Vec<Global>,
    functions: Vec<Global>,
}

/// Why the debug information of an object could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DwarfError {
    /// The object's name (a file or REPL input name).
    pub object: String,
    /// Where reading failed (a section, or a unit's offset in `.debug_info`).
    pub place: String,
    /// What was wrong there.
    pub cause: String,
}

impl fmt::Display for DwarfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "debug information of {}: {}: {}",
            self.object, self.place, self.cause
        )
    }
}

impl std::error::Error for DwarfError {}

impl DebugInfo {
    /// Reads the DWARF of a linked object: the graph's debug sections, with
    /// relocations applied.
    pub fn from_graph(graph: &LinkGraph) -> Result<DebugInfo, DwarfError> {
        DebugInfo::from_sections(&graph.name, &|name| {
            graph
                .sections
                .iter()
                .find(|s| s.kind == SectionKind::Debug && s.name == name)
                .map(|s| s.bytes.as_slice())
        })
    }

    /// Reads the DWARF of an unlinked ELF object. Relocations are not
    /// applied: types and names read correctly (BPF objects use REL
    /// relocations against section symbols, so the addends already in the
    /// bytes are the section offsets), addresses do not.
    pub fn from_object(elf_bytes: &[u8]) -> Result<DebugInfo, DwarfError> {
        use object::{Object, ObjectSection};
        let err = |cause: String| DwarfError {
            object: "ELF object".to_string(),
            place: "ELF headers".to_string(),
            cause,
        };
        let file = object::File::parse(elf_bytes).map_err(|e| err(e.to_string()))?;
        if !file.is_little_endian() {
            return Err(err("big-endian objects are not supported".to_string()));
        }
        let mut sections = Vec::new();
        for s in file.sections() {
            if let (Ok(name), Ok(data)) = (s.name(), s.data()) {
                if name.starts_with(".debug_") {
                    sections.push((name.to_string(), data));
                }
            }
        }
        DebugInfo::from_sections("ELF object", &|name| {
            sections.iter().find(|(n, _)| n == name).map(|(_, d)| *d)
        })
    }

    /// Reads DWARF from raw sections: `section(".debug_info")` returns the
    /// bytes of a section, or `None` if the object lacks it.
    pub fn from_sections<'a>(
        object: &str,
        section: &dyn Fn(&str) -> Option<&'a [u8]>,
    ) -> Result<DebugInfo, DwarfError> {
        let err = |place: String, cause: String| DwarfError {
            object: object.to_string(),
            place,
            cause,
        };
        if section(".debug_info").is_none_or(|s| s.is_empty()) {
            return Err(err(
                ".debug_info".to_string(),
                "there is no debug information (compile with -g)".to_string(),
            ));
        }
        let dwarf: Dwarf<Slice<'a>> = gimli::Dwarf::load(|id: gimli::SectionId| {
            Ok::<_, Infallible>(Slice::new(
                section(id.name()).unwrap_or(&[]),
                gimli::LittleEndian,
            ))
        })
        .unwrap_or_else(|never| match never {});
        DebugInfo::from_dwarf(object, &dwarf)
    }

    /// Reads the globals of already loaded DWARF (the linker session's
    /// cached parse of an object, shared with backtraces).
    pub fn from_dwarf<R: Sections>(
        object: &str,
        dwarf: &Dwarf<R>,
    ) -> Result<DebugInfo, DwarfError> {
        let err = |place: String, cause: String| DwarfError {
            object: object.to_string(),
            place,
            cause,
        };
        let mut info = DebugInfo::default();
        let mut units = dwarf.units();
        loop {
            let header = match units.next() {
                Ok(Some(h)) => h,
                Ok(None) => break,
                Err(e) => return Err(err(".debug_info".to_string(), e.to_string())),
            };
            let place = match header.debug_info_offset() {
                Some(o) => format!("unit at .debug_info+{:#x}", o.0),
                None => "unit".to_string(),
            };
            let unit =
                unit_for_types(dwarf, header).map_err(|e| err(place.clone(), e.to_string()))?;
            info.read_unit(dwarf, &unit)
                .map_err(|e| err(place, e.to_string()))?;
        }
        Ok(info)
    }

    /// Records every named variable and function at the top level of a unit.
    fn read_unit<R: Sections>(&mut self, dwarf: &Dwarf<R>, unit: &Unit<R>) -> gimli::Result<()> {
        let mut tree = unit.entries_tree(None)?;
        let root = tree.root()?;
        let mut children = root.children();
        while let Some(node) = children.next()? {
            let entry = node.entry().clone();
            let tag = entry.tag();
            if tag != gimli::DW_TAG_variable && tag != gimli::DW_TAG_subprogram {
                continue;
            }
            let mut reader = TypeReader::new(dwarf, unit);
            let Some(name) = reader.name(&entry) else {
                continue;
            };
            let defined = !flag(&entry, gimli::DW_AT_declaration);
            if tag == gimli::DW_TAG_variable {
                let ty = reader.type_of(&entry, Reach::Global);
                self.variables.push(Global { name, ty, defined });
            } else {
                let ty = reader.function(&entry, Reach::ByValue);
                self.functions.push(Global { name, ty, defined });
            }
        }
        Ok(())
    }

    /// The type of a global variable: its definition's if there is one,
    /// else a declaration's.
    pub fn variable_type(&self, name: &str) -> Option<&CType> {
        find(&self.variables, name)
    }

    /// The type of a function (a [`CType::Function`]): its definition's if
    /// there is one, else a declaration's.
    pub fn function_type(&self, name: &str) -> Option<&CType> {
        find(&self.functions, name)
    }

    /// The return type of a function ([`CType::Void`] for `void f(...)`).
    pub fn function_return_type(&self, name: &str) -> Option<&CType> {
        match self.function_type(name)? {
            CType::Function { ret, .. } => Some(ret),
            _ => None,
        }
    }

    /// Every global variable described, in the order of the DWARF.
    pub fn variables(&self) -> &[Global] {
        &self.variables
    }

    /// Every function described (definitions and declarations), in the
    /// order of the DWARF.
    pub fn functions(&self) -> &[Global] {
        &self.functions
    }
}

/// A unit ready for reading its entries. Unlike `gimli::Dwarf::unit`, it
/// does not parse the line program or the unit's address: types need
/// neither, and a broken line table must not hide them.
fn unit_for_types<R: Sections>(
    dwarf: &Dwarf<R>,
    header: gimli::UnitHeader<R>,
) -> gimli::Result<Unit<R>> {
    let abbreviations = dwarf.abbreviations(&header)?;
    let mut str_offsets_base = gimli::DebugStrOffsetsBase(0);
    let mut addr_base = gimli::DebugAddrBase(0);
    {
        let mut cursor = header.entries(&abbreviations);
        let root = cursor.next_dfs()?.ok_or(gimli::Error::MissingUnitDie)?;
        for attr in root.attrs() {
            match attr.value() {
                AttributeValue::DebugStrOffsetsBase(base) => str_offsets_base = base,
                AttributeValue::DebugAddrBase(base) => addr_base = base,
                _ => {}
            }
        }
    }
    Ok(gimli::Unit {
        header,
        abbreviations,
        name: None,
        comp_dir: None,
        low_pc: 0,
        str_offsets_base,
        addr_base,
        loclists_base: gimli::DebugLocListsBase(0),
        rnglists_base: gimli::DebugRngListsBase(0),
        line_program: None,
        dwo_id: None,
    })
}

/// The definition named `name`, else its first declaration.
fn find<'g>(globals: &'g [Global], name: &str) -> Option<&'g CType> {
    globals
        .iter()
        .find(|g| g.name == name && g.defined)
        .or_else(|| globals.iter().find(|g| g.name == name))
        .map(|g| &g.ty)
}

/// How a type is reached: records behind a pointer are read by name only,
/// except behind the pointers a global variable's own type is made of
/// (`struct point *p`, `struct point *tab[2]`), whose targets are read in
/// full: the REPL prints a value it holds by reference (an array, a
/// `const` object) through such a pointer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reach {
    /// A global variable's type, before any pointer.
    Global,
    ByValue,
    ThroughPointer,
}

/// Converts the type entries of one unit to [`CType`]s, within limits.
struct TypeReader<'d, R: Sections> {
    dwarf: &'d Dwarf<R>,
    unit: &'d Unit<R>,
    /// Entries still allowed to be read for this type.
    budget: usize,
    /// Entries being converted, outermost first (cycle and depth check).
    path: Vec<UnitOffset>,
}

impl<'d, R: Sections> TypeReader<'d, R> {
    fn new(dwarf: &'d Dwarf<R>, unit: &'d Unit<R>) -> Self {
        TypeReader {
            dwarf,
            unit,
            budget: MAX_TYPE_DIES,
            path: Vec::new(),
        }
    }

    /// `DW_AT_name` of an entry.
    fn name(&self, entry: &Die<R>) -> Option<String> {
        let value = entry.attr_value(gimli::DW_AT_name)?;
        let s = self.dwarf.attr_string(self.unit, value).ok()?;
        Some(s.to_string_lossy().ok()?.into_owned())
    }

    /// The type an entry's `DW_AT_type` names; `void` when it has none.
    fn type_of(&mut self, entry: &Die<R>, reach: Reach) -> CType {
        match entry.attr_value(gimli::DW_AT_type) {
            None => CType::Void,
            Some(AttributeValue::UnitRef(offset)) => self.convert(offset, reach),
            Some(AttributeValue::DebugInfoRef(offset)) => {
                match offset.to_unit_offset(&self.unit.header) {
                    Some(offset) => self.convert(offset, reach),
                    None => unknown(format!(
                        "type reference to .debug_info+{:#x} leaves its unit",
                        offset.0
                    )),
                }
            }
            Some(other) => unknown(format!("unsupported type reference {other:?}")),
        }
    }

    /// Converts the type entry at `offset`.
    fn convert(&mut self, offset: UnitOffset, reach: Reach) -> CType {
        if self.budget == 0 {
            return unknown(format!(
                "type described by more than {MAX_TYPE_DIES} entries"
            ));
        }
        self.budget -= 1;
        let entry = match self.unit.entry(offset) {
            Ok(e) => e,
            Err(e) => return unknown(format!("no type entry at unit offset {:#x}: {e}", offset.0)),
        };
        let tag = entry.tag();
        if reach == Reach::ThroughPointer
            && (tag == gimli::DW_TAG_structure_type || tag == gimli::DW_TAG_union_type)
        {
            // Read by name only, without following anything: a record
            // that points to itself is not a cycle.
            return self.record(&entry, tag == gimli::DW_TAG_union_type, reach);
        }
        if self.path.len() >= MAX_TYPE_DEPTH {
            return unknown(format!(
                "type nested more than {MAX_TYPE_DEPTH} levels deep"
            ));
        }
        if self.path.contains(&offset) {
            return unknown(format!(
                "type at unit offset {:#x} contains itself",
                offset.0
            ));
        }
        self.path.push(offset);
        let ty = self.convert_entry(&entry, reach);
        self.path.pop();
        ty
    }

    fn convert_entry(&mut self, entry: &Die<R>, reach: Reach) -> CType {
        let tag = entry.tag();
        match tag {
            gimli::DW_TAG_base_type => self.base_type(entry),
            gimli::DW_TAG_pointer_type => {
                let target_reach = match reach {
                    Reach::Global => Reach::ByValue,
                    _ => Reach::ThroughPointer,
                };
                CType::Pointer(Box::new(self.type_of(entry, target_reach)))
            }
            gimli::DW_TAG_const_type
            | gimli::DW_TAG_volatile_type
            | gimli::DW_TAG_restrict_type
            | gimli::DW_TAG_atomic_type => {
                let mut quals = Qualifiers {
                    is_const: tag == gimli::DW_TAG_const_type,
                    is_volatile: tag == gimli::DW_TAG_volatile_type,
                    is_restrict: tag == gimli::DW_TAG_restrict_type,
                    is_atomic: tag == gimli::DW_TAG_atomic_type,
                };
                match self.type_of(entry, reach) {
                    CType::Qualified {
                        quals: inner,
                        target,
                    } => {
                        quals.is_const |= inner.is_const;
                        quals.is_volatile |= inner.is_volatile;
                        quals.is_restrict |= inner.is_restrict;
                        quals.is_atomic |= inner.is_atomic;
                        CType::Qualified { quals, target }
                    }
                    target => CType::Qualified {
                        quals,
                        target: Box::new(target),
                    },
                }
            }
            gimli::DW_TAG_typedef => {
                let target = self.type_of(entry, reach);
                match self.name(entry) {
                    Some(name) => CType::Typedef {
                        name,
                        target: Box::new(target),
                    },
                    None => target,
                }
            }
            gimli::DW_TAG_array_type => self.array(entry, reach),
            gimli::DW_TAG_structure_type | gimli::DW_TAG_union_type => {
                self.record(entry, tag == gimli::DW_TAG_union_type, reach)
            }
            gimli::DW_TAG_enumeration_type => self.enumeration(entry),
            gimli::DW_TAG_subroutine_type => self.function(entry, reach),
            gimli::DW_TAG_unspecified_type => match self.name(entry) {
                Some(name) => unknown(format!("unspecified type {name}")),
                None => unknown("unspecified type".to_string()),
            },
            other => unknown(format!("unsupported type entry {other}")),
        }
    }

    fn base_type(&mut self, entry: &Die<R>) -> CType {
        let size = udata(entry, gimli::DW_AT_byte_size).unwrap_or(0);
        let name = self.name(entry);
        let encoding = match entry.attr_value(gimli::DW_AT_encoding) {
            Some(AttributeValue::Encoding(e)) => e,
            _ => {
                return unknown(format!(
                    "base type {} without an encoding",
                    name.unwrap_or_default()
                ))
            }
        };
        let int_name = |signed: bool, name: Option<String>| {
            name.unwrap_or_else(|| {
                format!(
                    "{}int{}_t",
                    if signed { "" } else { "u" },
                    size.saturating_mul(8)
                )
            })
        };
        match encoding {
            gimli::DW_ATE_boolean => CType::Bool,
            gimli::DW_ATE_signed_char | gimli::DW_ATE_unsigned_char if size == 1 => {
                let signed = encoding == gimli::DW_ATE_signed_char;
                CType::Char {
                    signed,
                    explicit_sign: name.as_deref() != Some("char"),
                }
            }
            gimli::DW_ATE_signed | gimli::DW_ATE_signed_char => CType::Int {
                name: int_name(true, name),
                size,
                signed: true,
            },
            gimli::DW_ATE_unsigned | gimli::DW_ATE_unsigned_char | gimli::DW_ATE_UTF => {
                CType::Int {
                    name: int_name(false, name),
                    size,
                    signed: false,
                }
            }
            gimli::DW_ATE_float => CType::Float {
                name: name.unwrap_or_else(|| format!("float{}", size.saturating_mul(8))),
                size,
            },
            other => unknown(format!(
                "base type {} with encoding {other}",
                name.unwrap_or_default()
            )),
        }
    }

    fn array(&mut self, entry: &Die<R>, reach: Reach) -> CType {
        let elem = match entry.attr_value(gimli::DW_AT_type) {
            None => unknown("array without an element type".to_string()),
            Some(_) => self.type_of(entry, reach),
        };
        let mut bounds = Vec::new();
        let children = match self.children(entry.offset()) {
            Ok(c) => c,
            Err(reason) => return unknown(reason),
        };
        for child in children {
            if child.tag() == gimli::DW_TAG_subrange_type {
                bounds.push(subrange_count(&child));
            }
        }
        if bounds.is_empty() {
            bounds.push(None);
        }
        bounds
            .into_iter()
            .rev()
            .fold(elem, |elem, count| CType::Array {
                elem: Box::new(elem),
                count,
            })
    }

    fn record(&mut self, entry: &Die<R>, union: bool, reach: Reach) -> CType {
        let name = self.name(entry);
        let size = udata(entry, gimli::DW_AT_byte_size).unwrap_or(0);
        if reach == Reach::ThroughPointer || flag(entry, gimli::DW_AT_declaration) {
            return CType::Record {
                union,
                name,
                size,
                fields: Vec::new(),
                fields_known: false,
            };
        }
        let children = match self.children(entry.offset()) {
            Ok(c) => c,
            Err(reason) => return unknown(reason),
        };
        let mut fields = Vec::new();
        for child in children.iter().filter(|c| c.tag() == gimli::DW_TAG_member) {
            fields.push(self.member(child));
        }
        CType::Record {
            union,
            name,
            size,
            fields,
            fields_known: true,
        }
    }

    fn member(&mut self, entry: &Die<R>) -> Field {
        let name = self.name(entry);
        let mut ty = match entry.attr_value(gimli::DW_AT_type) {
            None => unknown("member without a type".to_string()),
            Some(_) => self.type_of(entry, Reach::ByValue),
        };
        let location = member_location(entry, self.unit.encoding()).unwrap_or(0);
        let bit_size = udata(entry, gimli::DW_AT_bit_size);
        let mut bit_offset = None;
        let mut offset = location;
        if let Some(bits) = bit_size {
            let first_bit = if let Some(b) = udata(entry, gimli::DW_AT_data_bit_offset) {
                Some(b)
            } else if let Some(from_msb) = udata(entry, gimli::DW_AT_bit_offset) {
                // DWARF 2-4: counted from the most significant bit of a
                // storage unit of DW_AT_byte_size bytes at the location.
                let storage = udata(entry, gimli::DW_AT_byte_size).unwrap_or(ty.size());
                location
                    .checked_add(storage)
                    .and_then(|end| end.checked_mul(8))
                    .and_then(|end| end.checked_sub(from_msb))
                    .and_then(|end| end.checked_sub(bits))
            } else {
                location.checked_mul(8)
            };
            match first_bit {
                Some(b) => {
                    bit_offset = Some(b);
                    offset = b / 8;
                }
                None => ty = unknown("bit-field with an impossible bit offset".to_string()),
            }
        }
        Field {
            name,
            offset,
            ty,
            bit_size,
            bit_offset,
        }
    }

    fn enumeration(&mut self, entry: &Die<R>) -> CType {
        let name = self.name(entry);
        let underlying = entry
            .attr_value(gimli::DW_AT_type)
            .map(|_| self.type_of(entry, Reach::ByValue));
        let size = udata(entry, gimli::DW_AT_byte_size)
            .or_else(|| underlying.as_ref().map(CType::size))
            .unwrap_or(4);
        let children = match self.children(entry.offset()) {
            Ok(c) => c,
            Err(reason) => return unknown(reason),
        };
        let mut signed = underlying.as_ref().map(CType::is_signed);
        if signed.is_none() {
            // No underlying type: signed if any enumerator is negative.
            signed = Some(children.iter().any(|c| {
                matches!(c.attr_value(gimli::DW_AT_const_value), Some(AttributeValue::Sdata(v)) if v < 0)
            }));
        }
        let signed = signed.unwrap_or(false);
        let mut enumerators = Vec::new();
        for child in children
            .iter()
            .filter(|c| c.tag() == gimli::DW_TAG_enumerator)
        {
            let (Some(name), Some(value)) = (self.name(child), enumerator_value(child, signed))
            else {
                continue;
            };
            enumerators.push((name, value));
        }
        CType::Enum {
            name,
            size,
            signed,
            enumerators,
        }
    }

    /// A subprogram or subroutine type as a [`CType::Function`].
    fn function(&mut self, entry: &Die<R>, reach: Reach) -> CType {
        let ret = self.type_of(entry, reach);
        let prototyped = flag(entry, gimli::DW_AT_prototyped);
        let children = match self.children(entry.offset()) {
            Ok(c) => c,
            Err(reason) => return unknown(reason),
        };
        let mut params = Vec::new();
        let mut variadic = false;
        for child in &children {
            match child.tag() {
                gimli::DW_TAG_formal_parameter => params.push(self.type_of(child, reach)),
                gimli::DW_TAG_unspecified_parameters => variadic = true,
                _ => {}
            }
        }
        CType::Function {
            ret: Box::new(ret),
            params,
            variadic,
            prototyped,
        }
    }

    /// The direct children of the entry at `offset`, within the budget.
    fn children(&mut self, offset: UnitOffset) -> Result<Vec<Die<R>>, String> {
        let describe = |e: gimli::Error| format!("children of unit offset {:#x}: {e}", offset.0);
        let mut tree = self.unit.entries_tree(Some(offset)).map_err(describe)?;
        let root = tree.root().map_err(describe)?;
        let mut iter = root.children();
        let mut out = Vec::new();
        while let Some(child) = iter.next().map_err(describe)? {
            if self.budget == 0 {
                return Err(format!(
                    "type described by more than {MAX_TYPE_DIES} entries"
                ));
            }
            self.budget -= 1;
            out.push(child.entry().clone());
        }
        Ok(out)
    }
}

fn unknown(reason: String) -> CType {
    CType::Unknown { reason }
}

/// True if a flag attribute is present and set.
fn flag<R: Sections>(entry: &Die<R>, at: DwAt) -> bool {
    matches!(entry.attr_value(at), Some(AttributeValue::Flag(true)))
}

/// An unsigned constant attribute.
fn udata<R: Sections>(entry: &Die<R>, at: DwAt) -> Option<u64> {
    constant(entry, at).and_then(|v| u64::try_from(v).ok())
}

/// A constant attribute as a signed 128-bit number (`DW_FORM_data*` are
/// taken as unsigned).
fn constant<R: Sections>(entry: &Die<R>, at: DwAt) -> Option<i128> {
    match entry.attr_value(at)? {
        AttributeValue::Data1(v) => Some(v.into()),
        AttributeValue::Data2(v) => Some(v.into()),
        AttributeValue::Data4(v) => Some(v.into()),
        AttributeValue::Data8(v) => Some(v.into()),
        AttributeValue::Udata(v) => Some(v.into()),
        AttributeValue::Sdata(v) => Some(v.into()),
        _ => None,
    }
}

/// Element count of a `DW_TAG_subrange_type`: `DW_AT_count`, or
/// `DW_AT_upper_bound - DW_AT_lower_bound + 1` (C arrays start at 0).
/// `None` when not a constant (variable-length arrays, `int[]`).
fn subrange_count<R: Sections>(entry: &Die<R>) -> Option<u64> {
    if let Some(count) = constant(entry, gimli::DW_AT_count) {
        return u64::try_from(count.max(0)).ok();
    }
    let upper = constant(entry, gimli::DW_AT_upper_bound)?;
    let lower = constant(entry, gimli::DW_AT_lower_bound).unwrap_or(0);
    let count = upper.checked_sub(lower)?.checked_add(1)?;
    u64::try_from(count.max(0)).ok()
}

/// `DW_AT_data_member_location`: a constant, or a DWARF 2 style
/// expression `DW_OP_plus_uconst N`.
fn member_location<R: Sections>(entry: &Die<R>, encoding: gimli::Encoding) -> Option<u64> {
    match entry.attr_value(gimli::DW_AT_data_member_location)? {
        AttributeValue::Exprloc(expr) => {
            let mut bytes = expr.0;
            match gimli::Operation::parse(&mut bytes, encoding).ok()? {
                gimli::Operation::PlusConstant { value } => Some(value),
                gimli::Operation::UnsignedConstant { value } => Some(value),
                _ => None,
            }
        }
        _ => udata(entry, gimli::DW_AT_data_member_location),
    }
}

/// An enumerator's value as an `i64` bit pattern; fixed-size data forms
/// are sign-extended when the enumeration is signed.
fn enumerator_value<R: Sections>(entry: &Die<R>, signed: bool) -> Option<i64> {
    Some(match entry.attr_value(gimli::DW_AT_const_value)? {
        AttributeValue::Sdata(v) => v,
        AttributeValue::Udata(v) => v as i64,
        AttributeValue::Data1(v) if signed => v as i8 as i64,
        AttributeValue::Data2(v) if signed => v as i16 as i64,
        AttributeValue::Data4(v) if signed => v as i32 as i64,
        AttributeValue::Data1(v) => v as i64,
        AttributeValue::Data2(v) => v as i64,
        AttributeValue::Data4(v) => v as i64,
        AttributeValue::Data8(v) => v as i64,
        AttributeValue::Data16(v) => v as i64,
        _ => return None,
    })
}
