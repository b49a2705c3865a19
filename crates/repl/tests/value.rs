//! Value printing end to end: clang-built fixtures (fixtures/value, rebuilt
//! by its rebuild.sh) are linked into a session, run, and every global is
//! printed from its bytes in VM memory with its type from the DWARF.
//!
//! Expected prints are written from the C source in fixtures/value/src
//! (what a C programmer would write for each initializer); expected type
//! names come from clang itself (obj/values.types, its AST's spelling).
//! Addresses come from the session's symbol table.

use bpf_linker::graph::SymbolKind;
use bpf_linker::{Session, SessionOptions};
use bpf_repl::ctype::{CType, Field, Qualifiers};
use bpf_repl::dwarf::{DebugInfo, MAX_TYPE_DEPTH};
use bpf_repl::value::{
    char_literal, format_value, format_value_with, string_literal, FormatOptions, ReadMemory,
};
use bpf_vm::Vm;

fn fixture_path(name: &str) -> String {
    format!("{}/fixtures/value/obj/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixture_path(name))
        .unwrap_or_else(|e| panic!("{name}: {e}; run crates/repl/fixtures/value/rebuild.sh"))
}

/// A session with objects linked (each its own unit) and the DWARF of the
/// last one.
struct Linked {
    session: Session,
    info: DebugInfo,
}

impl Linked {
    fn new(objects: &[&str]) -> Linked {
        let mut session = Session::new(
            Vm::default(),
            SessionOptions {
                allow_redefinition: false,
                keep_unfixed_graphs: false,
            },
        );
        for name in objects {
            session
                .add_object(name, &fixture(name))
                .unwrap_or_else(|e| panic!("linking {name}: {e}"));
        }
        let graph = &session.objects().last().expect("an object").graph;
        let info = DebugInfo::from_graph(graph).expect("DWARF of the fixture");
        Linked { session, info }
    }

    fn values() -> Linked {
        let mut linked = Linked::new(&["values.o"]);
        linked.session.call("init", &[]).expect("init runs");
        linked
    }

    fn addr(&self, name: &str) -> u64 {
        self.session
            .lookup(name)
            .unwrap_or_else(|| panic!("no symbol {name}"))
            .addr
    }

    fn hex(&self, name: &str) -> String {
        format!("{:#x}", self.addr(name))
    }

    fn symbolize(&self, addr: u64) -> Option<String> {
        self.session
            .symbols()
            .into_iter()
            .find(|s| s.kind == SymbolKind::Function && s.addr == addr)
            .map(|s| s.name.clone())
    }

    /// `(type) value` of a global, from its bytes in VM memory.
    fn show(&self, name: &str) -> String {
        let ty = self
            .info
            .variable_type(name)
            .unwrap_or_else(|| panic!("no DWARF type for {name}"));
        let mem = &self.session.vm().mem;
        let bytes = mem
            .read_bytes(self.addr(name), ty.size() as usize)
            .expect("the variable's bytes are readable");
        format_value(ty, &bytes, mem, &|a| self.symbolize(a))
    }
}

#[test]
fn type_names_are_spelled_as_clang_spells_them() {
    let linked = Linked::values();
    let oracle = std::fs::read_to_string(fixture_path("values.types")).expect("values.types");
    let mut checked = 0;
    for line in oracle.lines() {
        let (name, clang) = line.split_once('\t').expect("name<TAB>type");
        let ty = linked
            .info
            .variable_type(name)
            .unwrap_or_else(|| panic!("no DWARF type for {name}"));
        assert_eq!(ty.c_name(), clang, "type of {name}");
        checked += 1;
    }
    assert!(checked >= 60, "the oracle lists every global ({checked})");
}

#[test]
fn integers_characters_and_booleans() {
    let l = Linked::values();
    for (name, want) in [
        ("i_pos", "(int) 42"),
        ("i_neg", "(int) -42"),
        ("ul", "(unsigned long) 7"),
        ("ll", "(long long) -9000000000"),
        ("ull", "(unsigned long long) 18446744073709551615"),
        ("sh", "(short) -3"),
        ("ush", "(unsigned short) 65535"),
        ("ch", "(char) 'a'"),
        ("ch_nl", "(char) '\\n'"),
        ("ch_quote", "(char) '\\''"),
        ("ch_hi", "(char) '\\xff'"),
        ("sc", "(signed char) -1"),
        ("uc", "(unsigned char) 255"),
        ("yes", "(_Bool) true"),
        ("no", "(_Bool) false"),
        // -(1 << 100) and 2**128 - 1.
        ("i128", "(__int128) -1267650600228229401496703205376"),
        (
            "u128",
            "(unsigned __int128) 340282366920938463463374607431768211455",
        ),
        ("sz", "(size_t) 3"),
        ("dbl", "(double) 1.5"),
        ("flt", "(float) -0.25"),
        ("cvi", "(const volatile int) 9"),
        ("counter", "(int) 55"),
    ] {
        assert_eq!(l.show(name), want, "{name}");
    }
}

#[test]
fn enums_print_enumerator_names_or_numbers() {
    let l = Linked::values();
    assert_eq!(l.show("col"), "(enum color) GREEN");
    assert_eq!(l.show("col_blue"), "(enum color) BLUE");
    assert_eq!(l.show("col_other"), "(enum color) 5");
    assert_eq!(l.show("neg"), "(enum sign) MINUS");
}

#[test]
fn strings_through_char_pointers() {
    let l = Linked::values();
    assert_eq!(l.show("str"), "(const char *) \"hi\"");
    // The C source's own literal: "q\"b\\n\n\t\x01" "end".
    assert_eq!(
        l.show("cstr"),
        r#"(const char *const) "q\"b\\n\n\t\x01" "end""#
    );
    assert_eq!(l.show("null_str"), "(char *) NULL");
    assert_eq!(l.show("bad_str"), "(char *) 0x12345 <invalid pointer>");
    // init() wrote 'a' + i % 26 for i < 299: the first 256 are shown.
    let text: String = (0..256).map(|i| (b'a' + (i % 26) as u8) as char).collect();
    assert_eq!(l.show("long_str"), format!("(char *) \"{text}\"..."));
}

#[test]
fn pointers_print_addresses() {
    let l = Linked::values();
    assert_eq!(l.show("px"), format!("(int *) {}", l.hex("x")));
    assert_eq!(l.show("pnull"), "(int *) NULL");
    assert_eq!(l.show("ppx"), format!("(int **) {}", l.hex("px")));
    assert_eq!(l.show("vp"), format!("(void *) {}", l.hex("x")));
    assert_eq!(l.show("rp"), format!("(int *restrict) {}", l.hex("x")));
    assert_eq!(l.show("pcp"), "(const int *const *) NULL");
    assert_eq!(l.show("fw"), "(struct fwd *) NULL");
    assert_eq!(l.show("ppt"), format!("(struct point *) {}", l.hex("pt")));
    assert_eq!(l.show("parr"), format!("(int (*)[3]) {}", l.hex("arr")));
}

#[test]
fn function_pointers_name_their_function() {
    let l = Linked::values();
    let fib = l.hex("fib");
    assert_eq!(l.show("fp"), format!("(int (*)(int)) {fib} <fib>"));
    assert_eq!(l.show("fp_null"), "(int (*)(int)) NULL");
    assert_eq!(l.show("op"), format!("(binop) {} <add>", l.hex("add")));
    assert_eq!(
        l.show("ops"),
        format!("(int (*[2])(int)) {{{fib} <fib>, NULL}}")
    );
    assert_eq!(l.show("unproto"), "(int (*)()) NULL");
    assert_eq!(l.show("varfn"), "(int (*)(const char *, ...)) NULL");
}

#[test]
fn arrays_element_by_element_and_char_arrays_as_strings() {
    let l = Linked::values();
    assert_eq!(l.show("arr"), "(int[3]) {1, 2, 3}");
    assert_eq!(l.show("hi"), "(char[3]) \"hi\"");
    assert_eq!(l.show("roomy"), "(char[8]) \"hi\"");
    assert_eq!(l.show("full"), "(char[2]) \"ok\"");
    assert_eq!(l.show("bytes"), "(unsigned char[3]) {1, 2, 255}");
    assert_eq!(l.show("m2"), "(int[2][3]) {{1, 2, 3}, {4, 5, 6}}");
    assert_eq!(l.show("names"), "(const char *[2]) {\"a\", \"b\"}");
    // init() stored big[i] = i: the first 64 are shown.
    let first: Vec<String> = (0..64).map(|i: i32| i.to_string()).collect();
    assert_eq!(
        l.show("big"),
        format!("(int[100]) {{{}, ...}}", first.join(", "))
    );
}

#[test]
fn records_print_as_designated_initializers() {
    let l = Linked::values();
    assert_eq!(l.show("pt"), "(struct point) {.x = 1, .y = 2}");
    assert_eq!(
        l.show("ln"),
        "(struct line) {.a = {.x = 1, .y = 2}, .b = {.x = 3, .y = 4}}"
    );
    assert_eq!(
        l.show("pts"),
        "(struct point[2]) {{.x = 1, .y = 2}, {.x = 3, .y = 4}}"
    );
    assert_eq!(l.show("n2"), "(struct node) {.v = 2, .next = NULL}");
    assert_eq!(
        l.show("n1"),
        format!("(struct node) {{.v = 1, .next = {}}}", l.hex("n2"))
    );
    assert_eq!(
        l.show("wa"),
        "(struct with_arr) {.name = \"name\", .vals = {7, 8, 9}}"
    );
    assert_eq!(
        l.show("bf"),
        "(struct bits) {.a = 5, .b = -3, .f = true, .c = 9, .e = BLUE, .s = -2}"
    );
    assert_eq!(
        l.show("an"),
        "(struct anon) {.a = 1, {.i = 65, .c = 'A'}, .named = {.z = 3}}"
    );
    // 0x41424344 is 1094861636, little-endian bytes 0x44 0x43 0x42 0x41.
    assert_eq!(
        l.show("wd"),
        "(union word) {.i = 1094861636, .b = {68, 67, 66, 65}}"
    );
    assert_eq!(l.show("dims"), "(dims_t) {.w = 640, .h = 480}");
    assert_eq!(l.show("fl"), "(struct flex) {.n = 0, .data = {}}");
}

#[test]
fn function_types_and_return_types() {
    let l = Linked::values();
    let fib = l.info.function_type("fib").expect("fib");
    assert_eq!(fib.c_name(), "int (int)");
    assert_eq!(
        l.info.function_type("add").unwrap().c_name(),
        "int (int, int)"
    );
    assert_eq!(l.info.function_return_type("fib").unwrap().c_name(), "int");
    assert!(l.info.function_return_type("init").unwrap().is_void());
    assert_eq!(
        l.info.function_type("init").unwrap().c_name(),
        "void (void)"
    );
    assert!(l.info.function_type("nonesuch").is_none());
    assert!(
        l.info.variable_type("fib").is_none(),
        "functions are not variables"
    );
}

#[test]
fn typedefs_keep_their_name_and_desugar_on_request() {
    let l = Linked::values();
    let sz = l.info.variable_type("sz").unwrap();
    assert_eq!(sz.c_name(), "size_t");
    assert_eq!(sz.desugared_name(), "unsigned long");
    let op = l.info.variable_type("op").unwrap();
    assert_eq!(op.desugared_name(), "int (*)(int, int)");
    let dims = l.info.variable_type("dims").unwrap();
    assert_eq!(dims.desugared_name(), "struct (unnamed)");
}

#[test]
fn unlinked_object_has_the_same_types() {
    let linked = Linked::values();
    let unlinked = DebugInfo::from_object(&fixture("values.o")).expect("DWARF");
    assert_eq!(unlinked.variables(), linked.info.variables());
    assert_eq!(unlinked.functions(), linked.info.functions());
}

#[test]
fn older_dwarf_versions_describe_the_same_types() {
    // values.c built with -gdwarf-2 and -gdwarf-4: member locations as
    // DW_OP_plus_uconst, bit-fields as DW_AT_bit_offset from the MSB,
    // strings through DW_FORM_strp.
    let v5 = DebugInfo::from_object(&fixture("values.o")).expect("DWARF 5");
    let v4 = DebugInfo::from_object(&fixture("values.dwarf4.o")).expect("DWARF 4");
    assert_eq!(v4.variables(), v5.variables());
    assert_eq!(v4.functions(), v5.functions());
    // DWARF 2 has no DW_TAG_restrict_type: `int *restrict rp` is `int *`.
    let v2 = DebugInfo::from_object(&fixture("values.dwarf2.o")).expect("DWARF 2");
    assert_eq!(v2.variable_type("rp").unwrap().c_name(), "int *");
    let others = |info: &DebugInfo| -> Vec<bpf_repl::dwarf::Global> {
        let mut v = info.variables().to_vec();
        v.retain(|g| g.name != "rp");
        v
    };
    assert_eq!(others(&v2), others(&v5));
    assert_eq!(v2.functions(), v5.functions());
}

#[test]
fn repl_expression_value_from_typeof_variable() {
    // repl_lib.o is an earlier input; repl_expr.o is what the REPL
    // compiles for an expression: __typeof__((EXPR)) __repl_val_N.
    let mut l = Linked::new(&["repl_lib.o", "repl_expr.o"]);
    l.session.call("__repl_expr_7", &[]).expect("runs");
    l.session.call("__repl_expr_9", &[]).expect("runs");
    assert_eq!(l.show("__repl_val_7"), "(int) 55");
    assert_eq!(l.show("__repl_val_9"), "(const char *) \"hello, world\\n\"");
    // The prototype seen by the expression tells the REPL what f() returns.
    assert_eq!(l.info.function_return_type("fib").unwrap().c_name(), "int");
    assert_eq!(
        l.info.function_return_type("greeting").unwrap().c_name(),
        "const char *"
    );
    assert!(l
        .info
        .functions()
        .iter()
        .any(|f| f.name == "fib" && !f.defined));
}

#[test]
fn object_without_debug_info_is_an_error_naming_it() {
    let mut session = Session::new(Vm::default(), SessionOptions::default());
    let bytes = fixture("values.o");
    session.add_object("values.o", &bytes).unwrap();
    let mut graph = session.objects()[0].graph.clone();
    graph.sections.retain(|s| !s.name.starts_with(".debug_"));
    let err = DebugInfo::from_graph(&graph).unwrap_err();
    assert_eq!(
        err.to_string(),
        "debug information of values.o: .debug_info: there is no debug information (compile with -g)"
    );
    assert!(DebugInfo::from_object(b"not an ELF file").is_err());
}

// ---- formatting rules on hand-made types -------------------------------

struct NoMemory;
impl ReadMemory for NoMemory {
    fn read(&self, _: u64, _: usize) -> Option<Vec<u8>> {
        None
    }
}

/// Memory holding `bytes` at `base`, nothing else.
struct Span {
    base: u64,
    bytes: Vec<u8>,
}
impl ReadMemory for Span {
    fn read(&self, addr: u64, len: usize) -> Option<Vec<u8>> {
        let start = usize::try_from(addr.checked_sub(self.base)?).ok()?;
        self.bytes
            .get(start..start.checked_add(len)?)
            .map(<[u8]>::to_vec)
    }
}

fn int() -> CType {
    CType::Int {
        name: "int".into(),
        size: 4,
        signed: true,
    }
}

fn plain_char() -> CType {
    CType::Char {
        signed: true,
        explicit_sign: false,
    }
}

fn no_symbols(_: u64) -> Option<String> {
    None
}

#[test]
fn char_and_string_literals_escape_like_c_source() {
    assert_eq!(char_literal(b'a'), "'a'");
    assert_eq!(char_literal(b'\''), "'\\''");
    assert_eq!(char_literal(b'"'), "'\"'");
    assert_eq!(char_literal(b'\\'), "'\\\\'");
    assert_eq!(char_literal(0), "'\\0'");
    assert_eq!(char_literal(0x7f), "'\\x7f'");
    assert_eq!(string_literal(b"a\"b\\c\n"), r#""a\"b\\c\n""#);
    assert_eq!(string_literal(b"\x01\x02"), r#""\x01\x02""#);
    // C reads hex digits after \x into the escape: split the literal.
    assert_eq!(string_literal(b"\x01a\x01g"), r#""\x01" "a\x01g""#);
    assert_eq!(string_literal("héllo".as_bytes()), "\"héllo\"");
    assert_eq!(string_literal(b"\xff\xfe"), r#""\xff\xfe""#);
    assert_eq!(string_literal(b"\x07\x08\x0c\x0b\r\t"), r#""\a\b\f\v\r\t""#);
}

#[test]
fn char_pointers_to_unreadable_or_unterminated_memory() {
    let ptr = CType::Pointer(Box::new(plain_char()));
    let at = |a: u64| a.to_le_bytes().to_vec();
    assert_eq!(
        format_value(&ptr, &at(0x5000), &NoMemory, &no_symbols),
        "(char *) 0x5000 <invalid pointer>"
    );
    let mem = Span {
        base: 0x1000,
        bytes: b"abc".to_vec(),
    };
    assert_eq!(
        format_value(&ptr, &at(0x1000), &mem, &no_symbols),
        "(char *) \"abc\"<unterminated: 0x1003 is unreadable>"
    );
    let mem = Span {
        base: 0x1000,
        bytes: b"abcdefgh\0".to_vec(),
    };
    let short = FormatOptions {
        max_string_len: 4,
        ..FormatOptions::default()
    };
    assert_eq!(
        format_value_with(&ptr, &at(0x1000), &mem, &no_symbols, &short),
        "(char *) \"abcd\"..."
    );
    assert_eq!(
        format_value_with(&ptr, &at(0x1004), &mem, &no_symbols, &short),
        "(char *) \"efgh\""
    );
}

#[test]
fn spelling_of_declarators() {
    let p = |t: CType| CType::Pointer(Box::new(t));
    let arr = |t: CType, n: u64| CType::Array {
        elem: Box::new(t),
        count: Some(n),
    };
    let konst = |t: CType| CType::Qualified {
        quals: Qualifiers {
            is_const: true,
            ..Qualifiers::default()
        },
        target: Box::new(t),
    };
    let func = |ret: CType, params: Vec<CType>| CType::Function {
        ret: Box::new(ret),
        params,
        variadic: false,
        prototyped: true,
    };
    assert_eq!(p(konst(p(plain_char()))).c_name(), "char *const *");
    assert_eq!(arr(konst(p(plain_char())), 2).c_name(), "char *const[2]");
    assert_eq!(p(arr(konst(p(int())), 3)).c_name(), "int *const (*)[3]");
    assert_eq!(p(func(p(plain_char()), vec![])).c_name(), "char *(*)(void)");
    assert_eq!(
        p(func(p(func(int(), vec![int()])), vec![int()])).c_name(),
        "int (*(*)(int))(int)"
    );
    // const applied to an array type qualifies its elements.
    assert_eq!(konst(arr(int(), 2)).c_name(), "const int[2]");
    let atomic = CType::Qualified {
        quals: Qualifiers {
            is_atomic: true,
            ..Qualifiers::default()
        },
        target: Box::new(int()),
    };
    assert_eq!(p(atomic).c_name(), "_Atomic(int) *");
}

#[test]
fn values_shorter_than_their_type_are_unavailable_not_a_panic() {
    let rec = CType::Record {
        union: false,
        name: Some("s".into()),
        size: 8,
        fields: vec![
            Field {
                name: Some("a".into()),
                offset: 0,
                ty: int(),
                bit_size: None,
                bit_offset: None,
            },
            Field {
                name: Some("b".into()),
                offset: 4,
                ty: int(),
                bit_size: Some(3),
                bit_offset: Some(u64::MAX - 1),
            },
        ],
        fields_known: true,
    };
    assert_eq!(
        format_value(&rec, &[1, 0, 0, 0], &NoMemory, &no_symbols),
        "(struct s) {.a = 1, .b = <unavailable>}"
    );
    let huge = CType::Array {
        elem: Box::new(int()),
        count: Some(u64::MAX),
    };
    assert_eq!(huge.size(), u64::MAX, "saturates");
    let shown = format_value_with(
        &huge,
        &[7, 0, 0, 0],
        &NoMemory,
        &no_symbols,
        &FormatOptions {
            max_elements: 2,
            ..FormatOptions::default()
        },
    );
    assert_eq!(shown, "(int[18446744073709551615]) {7, <unavailable>, ...}");
}

#[test]
fn nesting_beyond_the_depth_limit_is_elided() {
    let mut ty = int();
    for _ in 0..5 {
        ty = CType::Array {
            elem: Box::new(ty),
            count: Some(1),
        };
    }
    let shallow = FormatOptions {
        max_depth: 3,
        ..FormatOptions::default()
    };
    assert_eq!(
        format_value_with(&ty, &[9, 0, 0, 0], &NoMemory, &no_symbols, &shallow),
        "(int[1][1][1][1][1]) {{{{...}}}}"
    );
    assert_eq!(
        format_value(&ty, &[9, 0, 0, 0], &NoMemory, &no_symbols),
        "(int[1][1][1][1][1]) {{{{{9}}}}}"
    );
}

// ---- hostile DWARF, built with gimli's writer ---------------------------

use gimli::write::{AttributeValue as W, DwarfUnit, EndianVec, Sections, UnitEntryId};

/// One compile unit; `build` adds entries under the root and returns
/// nothing; the result is parsed back with DebugInfo::from_sections.
fn hostile(build: impl FnOnce(&mut DwarfUnit, UnitEntryId)) -> DebugInfo {
    let encoding = gimli::Encoding {
        format: gimli::Format::Dwarf32,
        version: 5,
        address_size: 8,
    };
    let mut dwarf = DwarfUnit::new(encoding);
    let root = dwarf.unit.root();
    build(&mut dwarf, root);
    let mut sections = Sections::new(EndianVec::new(gimli::LittleEndian));
    dwarf.write(&mut sections).expect("writes");
    let mut found: Vec<(String, Vec<u8>)> = Vec::new();
    sections
        .for_each(|id, data| {
            found.push((id.name().to_string(), data.slice().to_vec()));
            Ok::<_, ()>(())
        })
        .unwrap();
    DebugInfo::from_sections("hostile", &|name| {
        found
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, d)| d.as_slice())
    })
    .expect("parses")
}

fn add(d: &mut DwarfUnit, parent: UnitEntryId, tag: gimli::DwTag) -> UnitEntryId {
    d.unit.add(parent, tag)
}

fn set(d: &mut DwarfUnit, id: UnitEntryId, at: gimli::DwAt, v: W) {
    d.unit.get_mut(id).set(at, v);
}

fn variable(d: &mut DwarfUnit, root: UnitEntryId, name: &str, ty: UnitEntryId) {
    let v = add(d, root, gimli::DW_TAG_variable);
    set(d, v, gimli::DW_AT_name, W::String(name.into()));
    set(d, v, gimli::DW_AT_type, W::UnitRef(ty));
}

fn base_int(d: &mut DwarfUnit, root: UnitEntryId) -> UnitEntryId {
    let t = add(d, root, gimli::DW_TAG_base_type);
    set(d, t, gimli::DW_AT_name, W::String(b"int".to_vec()));
    set(
        d,
        t,
        gimli::DW_AT_encoding,
        W::Encoding(gimli::DW_ATE_signed),
    );
    set(d, t, gimli::DW_AT_byte_size, W::Udata(4));
    t
}

fn is_unknown(t: &CType) -> bool {
    matches!(t, CType::Unknown { .. })
}

#[test]
fn a_struct_containing_itself_by_value_is_unknown_not_infinite() {
    let info = hostile(|d, root| {
        let s = add(d, root, gimli::DW_TAG_structure_type);
        set(d, s, gimli::DW_AT_name, W::String(b"loop".to_vec()));
        set(d, s, gimli::DW_AT_byte_size, W::Udata(4));
        let m = add(d, s, gimli::DW_TAG_member);
        set(d, m, gimli::DW_AT_name, W::String(b"self".to_vec()));
        set(d, m, gimli::DW_AT_type, W::UnitRef(s));
        variable(d, root, "v", s);
    });
    let ty = info.variable_type("v").unwrap();
    let CType::Record { fields, .. } = ty else {
        panic!("{ty:?}")
    };
    assert!(is_unknown(&fields[0].ty), "{:?}", fields[0].ty);
    let shown = format_value(ty, &[0; 4], &NoMemory, &no_symbols);
    assert_eq!(shown, "(struct loop) {.self = <value of unknown type>}");
}

#[test]
fn typedef_and_pointer_cycles_end() {
    let info = hostile(|d, root| {
        // typedef A A;  and  P = pointer to P.
        let a = add(d, root, gimli::DW_TAG_typedef);
        set(d, a, gimli::DW_AT_name, W::String(b"A".to_vec()));
        set(d, a, gimli::DW_AT_type, W::UnitRef(a));
        variable(d, root, "a", a);
        let p = add(d, root, gimli::DW_TAG_pointer_type);
        set(d, p, gimli::DW_AT_type, W::UnitRef(p));
        variable(d, root, "p", p);
    });
    let a = info.variable_type("a").unwrap();
    assert!(matches!(a, CType::Typedef { target, .. } if is_unknown(target)));
    let p = info.variable_type("p").unwrap();
    assert!(p.c_name().ends_with('*'), "{}", p.c_name());
    let shown = format_value(p, &[0; 8], &NoMemory, &no_symbols);
    assert!(shown.ends_with(" NULL"), "{shown}");
}

#[test]
fn self_referential_struct_through_pointer_is_finite() {
    let info = hostile(|d, root| {
        let int = base_int(d, root);
        let s = add(d, root, gimli::DW_TAG_structure_type);
        set(d, s, gimli::DW_AT_name, W::String(b"node".to_vec()));
        set(d, s, gimli::DW_AT_byte_size, W::Udata(16));
        let ptr = add(d, root, gimli::DW_TAG_pointer_type);
        set(d, ptr, gimli::DW_AT_type, W::UnitRef(s));
        let v = add(d, s, gimli::DW_TAG_member);
        set(d, v, gimli::DW_AT_name, W::String(b"v".to_vec()));
        set(d, v, gimli::DW_AT_type, W::UnitRef(int));
        let next = add(d, s, gimli::DW_TAG_member);
        set(d, next, gimli::DW_AT_name, W::String(b"next".to_vec()));
        set(d, next, gimli::DW_AT_type, W::UnitRef(ptr));
        set(d, next, gimli::DW_AT_data_member_location, W::Udata(8));
        variable(d, root, "n", s);
    });
    let n = info.variable_type("n").unwrap();
    let CType::Record { fields, .. } = n else {
        panic!("{n:?}")
    };
    assert_eq!(fields[1].ty.c_name(), "struct node *");
    let mut bytes = vec![0u8; 16];
    bytes[0] = 3;
    bytes[8..].copy_from_slice(&0x3_0000_0010u64.to_le_bytes());
    assert_eq!(
        format_value(n, &bytes, &NoMemory, &no_symbols),
        "(struct node) {.v = 3, .next = 0x300000010}"
    );
}

#[test]
fn deep_chains_missing_attributes_and_huge_counts() {
    let info = hostile(|d, root| {
        // 200 pointers deep.
        let int = base_int(d, root);
        let mut t = int;
        for _ in 0..200 {
            let p = add(d, root, gimli::DW_TAG_pointer_type);
            set(d, p, gimli::DW_AT_type, W::UnitRef(t));
            t = p;
        }
        variable(d, root, "deep", t);
        // A member and an array without types; a base type without encoding.
        let s = add(d, root, gimli::DW_TAG_structure_type);
        set(d, s, gimli::DW_AT_byte_size, W::Udata(4));
        add(d, s, gimli::DW_TAG_member);
        variable(d, root, "s", s);
        let a = add(d, root, gimli::DW_TAG_array_type);
        variable(d, root, "a", a);
        let b = add(d, root, gimli::DW_TAG_base_type);
        variable(d, root, "b", b);
        // Unnamed base types of absurd size.
        let w = add(d, root, gimli::DW_TAG_base_type);
        set(
            d,
            w,
            gimli::DW_AT_encoding,
            W::Encoding(gimli::DW_ATE_signed),
        );
        set(d, w, gimli::DW_AT_byte_size, W::Udata(u64::MAX));
        variable(d, root, "wide", w);
        let f = add(d, root, gimli::DW_TAG_base_type);
        set(
            d,
            f,
            gimli::DW_AT_encoding,
            W::Encoding(gimli::DW_ATE_float),
        );
        set(d, f, gimli::DW_AT_byte_size, W::Udata(u64::MAX));
        variable(d, root, "wide_float", f);
        // An array of 2^64 - 1 ints, and one whose bound is a reference.
        let big = add(d, root, gimli::DW_TAG_array_type);
        set(d, big, gimli::DW_AT_type, W::UnitRef(int));
        let r = add(d, big, gimli::DW_TAG_subrange_type);
        set(d, r, gimli::DW_AT_upper_bound, W::Udata(u64::MAX));
        variable(d, root, "big", big);
        let vla = add(d, root, gimli::DW_TAG_array_type);
        set(d, vla, gimli::DW_AT_type, W::UnitRef(int));
        let r = add(d, vla, gimli::DW_TAG_subrange_type);
        set(d, r, gimli::DW_AT_count, W::UnitRef(int));
        variable(d, root, "vla", vla);
        // A type reference in a form that is not a reference.
        let v = add(d, root, gimli::DW_TAG_variable);
        set(d, v, gimli::DW_AT_name, W::String(b"odd".to_vec()));
        set(d, v, gimli::DW_AT_type, W::Udata(12345));
        // A variable without a type is void; one without a name is skipped.
        let v = add(d, root, gimli::DW_TAG_variable);
        set(d, v, gimli::DW_AT_name, W::String(b"untyped".to_vec()));
        let v = add(d, root, gimli::DW_TAG_variable);
        set(d, v, gimli::DW_AT_type, W::UnitRef(int));
    });
    let deep = info.variable_type("deep").unwrap();
    let mut t = deep;
    let mut pointers = 0;
    while let CType::Pointer(inner) = t {
        pointers += 1;
        t = inner;
    }
    assert_eq!(pointers, MAX_TYPE_DEPTH, "pointers kept before the cut");
    assert!(is_unknown(t), "{t:?}");
    let s = info.variable_type("s").unwrap();
    assert!(matches!(s, CType::Record { fields, .. } if is_unknown(&fields[0].ty)));
    assert!(
        matches!(info.variable_type("a").unwrap(), CType::Array { elem, .. } if is_unknown(elem))
    );
    assert!(is_unknown(info.variable_type("b").unwrap()));
    // upper bound 2^64 - 1 means 2^64 elements, which u64 cannot count.
    assert_eq!(info.variable_type("big").unwrap().c_name(), "int[]");
    assert_eq!(info.variable_type("vla").unwrap().c_name(), "int[]");
    assert!(is_unknown(info.variable_type("odd").unwrap()));
    assert!(info.variable_type("untyped").unwrap().is_void());
    assert_eq!(info.variables().len(), 10);
    let wide = info.variable_type("wide").unwrap();
    assert_eq!(
        format_value(wide, &[0; 16], &NoMemory, &no_symbols),
        format!("({}) <18446744073709551615-byte integer>", wide.c_name())
    );
    for v in info.variables() {
        let bytes = vec![0xa5; v.ty.size().min(64) as usize];
        let _ = format_value(&v.ty, &bytes, &NoMemory, &no_symbols);
    }
}

#[test]
fn corrupted_debug_info_never_panics() {
    // Every byte of the fixture's .debug_info and .debug_abbrev, replaced
    // by a few values in turn; whatever parses is also printed.
    use object::{Object, ObjectSection};
    let elf = fixture("values.o");
    let file = object::File::parse(elf.as_slice()).unwrap();
    let originals: Vec<(String, Vec<u8>)> = file
        .sections()
        .filter_map(|s| Some((s.name().ok()?.to_string(), s.data().ok()?.to_vec())))
        .filter(|(n, _)| n.starts_with(".debug_"))
        .collect();
    let mut parsed = 0;
    for target in [".debug_info", ".debug_abbrev"] {
        let len = originals.iter().find(|(n, _)| n == target).unwrap().1.len();
        for at in 0..len {
            for value in [0x00u8, 0xff, 0x7f, 0x13] {
                let mut sections = originals.clone();
                let (_, bytes) = sections.iter_mut().find(|(n, _)| n == target).unwrap();
                bytes[at] = value;
                let lookup = |name: &str| {
                    sections
                        .iter()
                        .find(|(n, _)| n == name)
                        .map(|(_, d)| d.as_slice())
                };
                if let Ok(info) = DebugInfo::from_sections("mutant", &lookup) {
                    parsed += 1;
                    for v in info.variables() {
                        let bytes = vec![0x5a; v.ty.size().min(512) as usize];
                        let _ = format_value(&v.ty, &bytes, &NoMemory, &no_symbols);
                        let _ = v.ty.c_name();
                    }
                }
            }
        }
    }
    // Most single-byte changes leave a readable unit (names, sizes,
    // offsets change); the test is that none of them panics or hangs.
    assert!(parsed > 1000, "{parsed} mutants parsed");
}

#[test]
fn self_referential_struct_member_types_name_the_struct() {
    let l = Linked::values();
    let CType::Record { fields, .. } = l.info.variable_type("n1").unwrap() else {
        panic!("struct node")
    };
    assert_eq!(fields[1].name.as_deref(), Some("next"));
    assert_eq!(fields[1].ty.c_name(), "struct node *");
}
