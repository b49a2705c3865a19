//! Thread-local variables (docs/abi.md, "Thread-local storage").
//!
//! clang refuses `_Thread_local`, `__thread` and `thread_local` for BPF
//! ("thread-local storage is not supported for the current target"): its
//! BPF target says it has no TLS, and Sema checks that before any flag
//! (`-ftls-model`, `-femulated-tls`) matters. So bpf-cc includes
//! `__bpf_tls.h`, which makes the keywords a section attribute
//! (`.bpf_repl.tls`) that clang accepts on every variable with static
//! storage. This early pass (on unoptimised IR, so the optimizer sees the
//! result) finds those variables and:
//!
//! - puts each definition in `.tdata` (initialised) or `.tbss` (all zero),
//!   which LLVM makes an `SHF_TLS` section with `STT_TLS` symbols: the TLS
//!   template the linker collects;
//! - marks each declaration `STT_TLS` (`.type name,@tls_object`), so the
//!   linker can check the definition is thread-local too;
//! - rewrites every use in code into `__bpf_tls_base() + offset`:
//!   `getelementptr i8, ptr %tp, i64 ptrtoint (ptr @v to i64)`. The backend
//!   emits the `ptrtoint` as an `ld_imm64` of `@v`, which the linker
//!   resolves to `v`'s offset in a thread's block (`TLS_TPOFF64`), not to
//!   an address. `__bpf_tls_base` is `memory(none)`, so the optimizer
//!   computes it once per function and hoists it out of loops;
//! - refuses a use in another variable's initializer: the address of a
//!   thread-local variable differs per thread, so it is not a constant.

use super::Cx;
use crate::error::Diagnostic;
use crate::ir::{Ir, V};
use std::collections::HashMap;

/// The section `__bpf_tls.h` marks thread-local variables with.
pub(crate) const MARKER_SECTION: &str = ".bpf_repl.tls";
/// The runtime helper that returns the running thread's thread pointer.
pub(crate) const TLS_BASE: &str = "__bpf_tls_base";

pub(crate) fn run(cx: &mut Cx) {
    let ir = cx.ir;
    let vars: Vec<V> = ir
        .globals()
        .into_iter()
        .filter(|g| ir.section(*g).as_deref() == Some(MARKER_SECTION))
        .collect();
    if vars.is_empty() {
        return;
    }
    if cx.strict {
        for g in vars {
            let message = format!(
                "thread-local variable `{}` is not allowed under --strict-bpf (plain BPF has no \
                 thread-local storage; compile without --strict-bpf to use bpf-repl's ABI)",
                ir.name(g)
            );
            report(cx, g, message);
        }
        return;
    }
    let mut asm = String::new();
    for &g in &vars {
        match ir.initializer(g) {
            Some(init) => {
                let zero = ir.is_null_value(init);
                ir.set_section(g, if zero { ".tbss" } else { ".tdata" });
            }
            None => {
                ir.set_section(g, "");
                asm.push_str(&format!("\t.type \"{}\",@tls_object\n", ir.name(g)));
            }
        }
    }
    if !asm.is_empty() {
        ir.append_module_asm(&asm);
    }
    let mut rewrite = Rewrite {
        ir,
        tp: HashMap::new(),
        addr: HashMap::new(),
    };
    for &g in &vars {
        let mut sites = Vec::new();
        collect_uses(cx, ir, g, g, &mut sites);
        for (inst, k) in sites {
            rewrite.operand(cx, inst, k, g);
        }
    }
    cx.problems
        .sort_by_key(|d| d.loc.as_ref().map(|l| (l.file.clone(), l.line, l.column)));
}

/// Reports `message` at the declaration of global `g`.
fn report(cx: &mut Cx, g: V, message: String) {
    let d = Diagnostic {
        loc: cx.ir.global_loc(g),
        function: None,
        message,
    };
    if !cx.problems.contains(&d) {
        cx.problems.push(d);
    }
}

/// The instruction operands that use `v` (a thread-local variable `g`,
/// or a constant expression over it), through constant expressions; a use
/// in another global's initializer is reported.
fn collect_uses(cx: &mut Cx, ir: &Ir, g: V, v: V, out: &mut Vec<(V, u32)>) {
    for user in ir.users(v) {
        if ir.is_instruction(user) {
            for k in 0..ir.operand_count(user) {
                if ir.operand(user, k) == v && !out.contains(&(user, k)) {
                    out.push((user, k));
                }
            }
        } else if ir.is_constant_expr(user) {
            collect_uses(cx, ir, g, user, out);
        } else {
            for holder in initializers_using(ir, user) {
                let name = ir.name(holder);
                if name.starts_with("llvm.") {
                    continue; // llvm.used and friends only keep it alive
                }
                let message = format!(
                    "the initializer of `{name}` takes the address of thread-local variable \
                     `{}`, which differs from thread to thread: it is not a constant \
                     (initialize `{name}` at run time)",
                    ir.name(g)
                );
                report(cx, holder, message);
            }
        }
    }
}

/// The global variables whose initializer contains constant `c`.
fn initializers_using(ir: &Ir, c: V) -> Vec<V> {
    if ir.is_global_variable(c) {
        return vec![c];
    }
    let mut out = Vec::new();
    for u in ir.users(c) {
        for g in initializers_using(ir, u) {
            if !out.contains(&g) {
                out.push(g);
            }
        }
    }
    out
}

/// Per function: the thread pointer and each variable's address in it.
struct Rewrite<'a> {
    ir: &'a Ir,
    tp: HashMap<V, V>,
    addr: HashMap<(V, V), V>,
}

impl Rewrite<'_> {
    /// Operand `k` of `inst` uses `g`: make it use this thread's instance.
    fn operand(&mut self, cx: &mut Cx, inst: V, k: u32, g: V) {
        let ir = self.ir;
        let f = ir.function_of(inst);
        let local = self.address(f, g);
        let old = ir.operand(inst, k);
        // A phi's operand is computed at the end of its incoming block.
        if ir.is_phi(inst) {
            ir.before_terminator(ir.incoming_block(inst, k));
        } else {
            ir.before(inst);
        }
        match self.materialize(old, g, local) {
            Some(new) => ir.set_operand(inst, k, new),
            None => cx.problem(
                inst,
                format!(
                    "a constant expression over thread-local variable `{}` that bpf-cc cannot \
                     rewrite",
                    ir.name(g)
                ),
            ),
        }
    }

    /// `v` (which is `g` or a constant expression over it) with `g`
    /// replaced by `local`, built at the builder's position.
    fn materialize(&self, v: V, g: V, local: V) -> Option<V> {
        let ir = self.ir;
        if v == g {
            return Some(local);
        }
        if !ir.is_constant_expr(v) {
            return Some(v);
        }
        let mut ops = Vec::new();
        let mut changed = false;
        for k in 0..ir.operand_count(v) {
            let op = ir.operand(v, k);
            let new = self.materialize(op, g, local)?;
            changed |= new != op;
            ops.push(new);
        }
        if !changed {
            return Some(v);
        }
        ir.build_const_expr(v, &ops)
    }

    /// `g`'s address in the running thread, computed at `f`'s entry.
    fn address(&mut self, f: V, g: V) -> V {
        if let Some(a) = self.addr.get(&(f, g)) {
            return *a;
        }
        let ir = self.ir;
        let tp = *self.tp.entry(f).or_insert_with(|| {
            ir.at_entry(f);
            let fnty = ir.fn_type(ir.ptr(), &[], false);
            let fresh = ir.function(TLS_BASE).is_none();
            let base = ir.declare(TLS_BASE, fnty);
            if fresh {
                let fn_index = llvm_sys::LLVMAttributeFunctionIndex;
                for a in ["nounwind", "willreturn", "nosync", "nofree", "speculatable"] {
                    ir.add_fn_attr(base, fn_index, ir.enum_attr(a));
                }
                // memory(none): the thread pointer is fixed while a thread runs.
                ir.add_fn_attr(base, fn_index, ir.enum_attr_value("memory", 0));
            }
            ir.call(fnty, base, &[])
        });
        ir.after(tp);
        let offset = ir.const_ptr_to_int(g);
        let a = ir.gep_i8(tp, offset);
        self.addr.insert((f, g), a);
        a
    }
}
