//! Thread-local variables in the IR stage, from hand-written IR (no clang):
//! what `__bpf_tls.h` leaves (variables in section `.bpf_repl.tls`) becomes
//! a TLS template and thread-pointer-relative accesses.

use bpf_cc::{lower, lower_to_ir, LowerError, LowerOptions, Mode, OptLevel};
use bpf_linker::bpf::EdgeKind;
use bpf_linker::graph::{Definition, SectionKind};
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

fn options(opt: OptLevel) -> LowerOptions {
    LowerOptions {
        opt,
        ..LowerOptions::default()
    }
}

const VARS: &str = r#"
@counter = global i32 0, section ".bpf_repl.tls", align 4
@table = global [4 x i64] [i64 1, i64 2, i64 3, i64 4], section ".bpf_repl.tls", align 8
@other = external global i32, section ".bpf_repl.tls", align 4
@plain = global i32 9, align 4
"#;

#[test]
fn accesses_become_thread_pointer_plus_offset_and_sections_the_template() {
    let ir = format!(
        "{VARS}
         define i32 @bump(i1 %c) {{
         entry:
           %v = load i32, ptr @counter
           %n = add i32 %v, 1
           store i32 %n, ptr @counter
           %t = load i64, ptr getelementptr inbounds ([4 x i64], ptr @table, i64 0, i64 2)
           br i1 %c, label %a, label %b
         a:
           br label %b
         b:
           %p = phi ptr [ @other, %a ], [ @plain, %entry ]
           %o = load i32, ptr %p
           %r = add i32 %n, %o
           %tt = trunc i64 %t to i32
           %s = add i32 %r, %tt
           ret i32 %s
         }}"
    );
    let bc = bitcode(&ir);
    let text = lower_to_ir(&bc, &options(OptLevel::O0)).unwrap();
    assert!(
        text.contains("module asm \"\\09.type \\22other\\22,@tls_object\""),
        "{text}"
    );
    assert!(
        text.contains("@counter = global i32 0, section \".tbss\""),
        "{text}"
    );
    assert!(text.contains("section \".tdata\""), "{text}");
    assert!(!text.contains(".bpf_repl.tls"), "{text}");
    assert!(text.contains("call ptr @__bpf_tls_base()"), "{text}");
    for var in ["counter", "table", "other"] {
        assert!(
            text.contains(&format!("i64 ptrtoint (ptr @{var} to i64)")),
            "{var} is not reached through the thread pointer:\n{text}"
        );
    }
    assert!(text.contains("memory(none)"), "{text}");

    // The object: an SHF_TLS template, STT_TLS symbols (the declaration
    // too), and ld_imm64 relocations the linker will make offsets.
    let obj = lower(&bc, &options(OptLevel::O2)).unwrap();
    let g = bpf_linker::elf::read_object("tls.o", &obj).unwrap();
    let kind_of = |name: &str| {
        let sym = g.symbols.iter().find(|s| s.name == name).unwrap();
        assert!(sym.tls, "{name} is not thread-local in the object");
        match sym.def {
            Definition::Defined { section, .. } => Some(g.sections[section].kind),
            _ => None,
        }
    };
    assert_eq!(kind_of("counter"), Some(SectionKind::TlsZeroFill));
    assert_eq!(kind_of("table"), Some(SectionKind::TlsData));
    assert_eq!(kind_of("other"), None);
    assert!(!g.symbols.iter().find(|s| s.name == "plain").unwrap().tls);
    let tls_refs = g
        .sections
        .iter()
        .filter(|s| s.kind == SectionKind::Code)
        .flat_map(|s| &s.edges)
        .filter(|e| e.kind == EdgeKind::LdImm64 && g.symbols[e.target].tls)
        .count();
    assert!(tls_refs >= 3, "{g}");
}

#[test]
fn the_thread_pointer_is_read_once_per_function_and_out_of_loops() {
    let ir = format!(
        "{VARS}
         define void @count(i32 %n) {{
         entry:
           br label %loop
         loop:
           %i = phi i32 [ 0, %entry ], [ %j, %loop ]
           %v = load volatile i32, ptr @counter
           %w = add i32 %v, 1
           store volatile i32 %w, ptr @counter
           %j = add i32 %i, 1
           %done = icmp eq i32 %j, %n
           br i1 %done, label %out, label %loop
         out:
           ret void
         }}"
    );
    let text = lower_to_ir(&bitcode(&ir), &options(OptLevel::O2)).unwrap();
    assert_eq!(
        text.matches("call ptr @__bpf_tls_base()").count(),
        1,
        "{text}"
    );
    let call = text.find("call ptr @__bpf_tls_base()").unwrap();
    let header = text
        .find("\nloop:")
        .or_else(|| text.find("\n1:"))
        .unwrap_or(text.len());
    assert!(call < header, "not hoisted out of the loop:\n{text}");
}

#[test]
fn a_thread_local_address_in_an_initializer_is_refused_at_its_line() {
    let ir = format!(
        "{VARS}
         @p = global ptr @counter, align 8, !dbg !0
         @s = global {{ ptr, i32 }} {{ ptr getelementptr (i8, ptr @table, i64 8), i32 1 }}
         @llvm.used = appending global [1 x ptr] [ptr @counter], section \"llvm.metadata\"
         !llvm.dbg.cu = !{{!2}}
         !llvm.module.flags = !{{!6}}
         !0 = !DIGlobalVariableExpression(var: !1, expr: !DIExpression())
         !1 = distinct !DIGlobalVariable(name: \"p\", scope: !2, file: !3, line: 7, type: !5, isLocal: false, isDefinition: true)
         !2 = distinct !DICompileUnit(language: DW_LANG_C11, file: !3, isOptimized: true, runtimeVersion: 0, emissionKind: FullDebug, globals: !4)
         !3 = !DIFile(filename: \"t.c\", directory: \"/\")
         !4 = !{{!0}}
         !5 = !DIBasicType(name: \"long\", size: 64, encoding: DW_ATE_signed)
         !6 = !{{i32 2, !\"Debug Info Version\", i32 3}}"
    );
    let Err(LowerError::Unsupported(d)) = lower(&bitcode(&ir), &options(OptLevel::O0)) else {
        panic!("an initializer took a thread-local address")
    };
    let all: Vec<String> = d.iter().map(|d| d.to_string()).collect();
    assert_eq!(all.len(), 2, "{all:?}");
    assert!(
        all.iter().any(|l| l.starts_with(
            "t.c:7: error: the initializer of `p` takes the \
             address of thread-local variable `counter`"
        )),
        "{all:?}"
    );
    assert!(
        all.iter()
            .any(|l| l.contains("`s`") && l.contains("`table`")),
        "{all:?}"
    );
}

#[test]
fn strict_mode_refuses_thread_local_variables() {
    let ir = format!("{VARS}\n define i32 @get() {{ %v = load i32, ptr @counter\n ret i32 %v }}");
    let strict = LowerOptions {
        mode: Mode::Strict,
        ..options(OptLevel::O0)
    };
    let Err(LowerError::Unsupported(d)) = lower(&bitcode(&ir), &strict) else {
        panic!("strict mode accepted a thread-local variable")
    };
    let text: Vec<String> = d.iter().map(|d| d.to_string()).collect();
    for var in ["counter", "table", "other"] {
        assert!(
            text.iter()
                .any(|l| l.contains(&format!("thread-local variable `{var}`"))
                    && l.contains("--strict-bpf")),
            "{text:?}"
        );
    }
}
