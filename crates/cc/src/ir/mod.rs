//! A thin, crate-private layer over LLVM's C API for the rewriting passes:
//! walking functions, blocks and instructions, building replacements, and
//! the few structural edits the C API lacks (splitting a block, rebuilding
//! a call with a new signature).
//!
//! Every handle an [`Ir`] method takes or returns belongs to the module the
//! `Ir` was made for, which outlives it; that is the invariant that makes
//! the `unsafe` calls below sound.

use llvm_sys::core::*;
use llvm_sys::debuginfo::{
    LLVMDIFileGetFilename, LLVMDILocationGetColumn, LLVMDILocationGetLine, LLVMDILocationGetScope,
    LLVMDIScopeGetFile, LLVMInstructionGetDebugLoc, LLVMInstructionSetDebugLoc,
};
use llvm_sys::prelude::*;
use llvm_sys::target::{LLVMABIAlignmentOfType, LLVMABISizeOfType, LLVMGetModuleDataLayout};
use llvm_sys::{LLVMIntPredicate, LLVMOpcode, LLVMTypeKind};
use std::ffi::{CStr, CString};

mod rewrite;

/// A value (instruction, argument, constant, function, global).
pub(crate) type V = LLVMValueRef;
/// A type.
pub(crate) type T = LLVMTypeRef;
/// A basic block.
pub(crate) type B = LLVMBasicBlockRef;

/// Where an instruction came from in the C source (its `!dbg` location).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceLoc {
    pub file: String,
    pub line: u32,
    pub column: u32,
}

/// The module being rewritten, with one instruction builder.
pub(crate) struct Ir {
    pub ctx: LLVMContextRef,
    pub module: LLVMModuleRef,
    builder: LLVMBuilderRef,
}

impl Drop for Ir {
    fn drop(&mut self) {
        unsafe { LLVMDisposeBuilder(self.builder) }
    }
}

pub(crate) fn cstring(s: &str) -> CString {
    CString::new(s.replace('\0', "")).expect("NULs removed")
}

/// An empty name for new values (LLVM numbers them).
const NONAME: *const std::ffi::c_char = c"".as_ptr();

impl Ir {
    /// Wraps a module; `ctx` must be the module's context.
    pub fn new(ctx: LLVMContextRef, module: LLVMModuleRef) -> Ir {
        let builder = unsafe { LLVMCreateBuilderInContext(ctx) };
        Ir {
            ctx,
            module,
            builder,
        }
    }

    // ----- types -----

    pub fn int(&self, bits: u32) -> T {
        unsafe { LLVMIntTypeInContext(self.ctx, bits) }
    }
    pub fn i1(&self) -> T {
        self.int(1)
    }
    pub fn i8(&self) -> T {
        self.int(8)
    }
    pub fn i32(&self) -> T {
        self.int(32)
    }
    pub fn i64(&self) -> T {
        self.int(64)
    }
    pub fn ptr(&self) -> T {
        unsafe { LLVMPointerTypeInContext(self.ctx, 0) }
    }
    pub fn void(&self) -> T {
        unsafe { LLVMVoidTypeInContext(self.ctx) }
    }
    pub fn f32(&self) -> T {
        unsafe { LLVMFloatTypeInContext(self.ctx) }
    }
    pub fn f64(&self) -> T {
        unsafe { LLVMDoubleTypeInContext(self.ctx) }
    }
    pub fn fn_type(&self, ret: T, params: &[T], variadic: bool) -> T {
        let mut p = params.to_vec();
        unsafe { LLVMFunctionType(ret, p.as_mut_ptr(), p.len() as u32, variadic as i32) }
    }
    pub fn kind(&self, t: T) -> LLVMTypeKind {
        unsafe { LLVMGetTypeKind(t) }
    }
    pub fn int_width(&self, t: T) -> Option<u32> {
        (self.kind(t) == LLVMTypeKind::LLVMIntegerTypeKind)
            .then(|| unsafe { LLVMGetIntTypeWidth(t) })
    }
    pub fn is_void(&self, t: T) -> bool {
        self.kind(t) == LLVMTypeKind::LLVMVoidTypeKind
    }
    pub fn is_ptr(&self, t: T) -> bool {
        self.kind(t) == LLVMTypeKind::LLVMPointerTypeKind
    }
    /// True for struct and array types (first-class aggregates).
    pub fn is_aggregate(&self, t: T) -> bool {
        matches!(
            self.kind(t),
            LLVMTypeKind::LLVMStructTypeKind | LLVMTypeKind::LLVMArrayTypeKind
        )
    }
    pub fn is_vector(&self, t: T) -> bool {
        matches!(
            self.kind(t),
            LLVMTypeKind::LLVMVectorTypeKind | LLVMTypeKind::LLVMScalableVectorTypeKind
        )
    }
    /// Bytes a value of `t` occupies in memory (with tail padding).
    pub fn size_of(&self, t: T) -> u64 {
        unsafe { LLVMABISizeOfType(LLVMGetModuleDataLayout(self.module), t) }
    }
    pub fn align_of(&self, t: T) -> u64 {
        unsafe { LLVMABIAlignmentOfType(LLVMGetModuleDataLayout(self.module), t) as u64 }
    }
    pub fn return_type(&self, fnty: T) -> T {
        unsafe { LLVMGetReturnType(fnty) }
    }
    pub fn param_types(&self, fnty: T) -> Vec<T> {
        let n = unsafe { LLVMCountParamTypes(fnty) } as usize;
        let mut v = vec![std::ptr::null_mut(); n];
        unsafe { LLVMGetParamTypes(fnty, v.as_mut_ptr()) };
        v
    }
    pub fn is_variadic(&self, fnty: T) -> bool {
        unsafe { LLVMIsFunctionVarArg(fnty) != 0 }
    }
    pub fn type_string(&self, t: T) -> String {
        unsafe {
            let s = LLVMPrintTypeToString(t);
            let out = CStr::from_ptr(s).to_string_lossy().into_owned();
            LLVMDisposeMessage(s);
            out
        }
    }

    // ----- module -----

    pub fn functions(&self) -> Vec<V> {
        let mut out = Vec::new();
        let mut f = unsafe { LLVMGetFirstFunction(self.module) };
        while !f.is_null() {
            out.push(f);
            f = unsafe { LLVMGetNextFunction(f) };
        }
        out
    }
    pub fn function(&self, name: &str) -> Option<V> {
        let f = unsafe { LLVMGetNamedFunction(self.module, cstring(name).as_ptr()) };
        (!f.is_null()).then_some(f)
    }
    /// The function named `name`, declared with `fnty` if it is not there yet.
    pub fn declare(&self, name: &str, fnty: T) -> V {
        self.function(name).unwrap_or_else(|| unsafe {
            LLVMAddFunction(self.module, cstring(name).as_ptr(), fnty)
        })
    }
    pub fn name(&self, v: V) -> String {
        let mut len = 0;
        unsafe {
            let p = LLVMGetValueName2(v, &mut len);
            if p.is_null() {
                return String::new();
            }
            String::from_utf8_lossy(std::slice::from_raw_parts(p as *const u8, len)).into_owned()
        }
    }
    pub fn set_name(&self, v: V, name: &str) {
        unsafe { LLVMSetValueName2(v, name.as_ptr() as *const std::ffi::c_char, name.len()) }
    }
    pub fn is_declaration(&self, f: V) -> bool {
        unsafe { LLVMIsDeclaration(f) != 0 }
    }
    pub fn function_type(&self, f: V) -> T {
        unsafe { LLVMGlobalGetValueType(f) }
    }
    pub fn params(&self, f: V) -> Vec<V> {
        let n = unsafe { LLVMCountParams(f) } as usize;
        let mut v = vec![std::ptr::null_mut(); n];
        unsafe { LLVMGetParams(f, v.as_mut_ptr()) };
        v
    }
    pub fn append_module_asm(&self, text: &str) {
        unsafe { LLVMAppendModuleInlineAsm(self.module, text.as_ptr() as *const _, text.len()) }
    }

    // ----- blocks and instructions -----

    pub fn blocks(&self, f: V) -> Vec<B> {
        let mut out = Vec::new();
        let mut b = unsafe { LLVMGetFirstBasicBlock(f) };
        while !b.is_null() {
            out.push(b);
            b = unsafe { LLVMGetNextBasicBlock(b) };
        }
        out
    }
    pub fn entry(&self, f: V) -> B {
        unsafe { LLVMGetEntryBasicBlock(f) }
    }
    pub fn insts(&self, b: B) -> Vec<V> {
        let mut out = Vec::new();
        let mut i = unsafe { LLVMGetFirstInstruction(b) };
        while !i.is_null() {
            out.push(i);
            i = unsafe { LLVMGetNextInstruction(i) };
        }
        out
    }
    /// Every instruction of `f`, in block order (a snapshot: safe to edit while iterating).
    pub fn all_insts(&self, f: V) -> Vec<V> {
        self.blocks(f)
            .into_iter()
            .flat_map(|b| self.insts(b))
            .collect()
    }
    pub fn block_of(&self, i: V) -> B {
        unsafe { LLVMGetInstructionParent(i) }
    }
    pub fn function_of(&self, i: V) -> V {
        unsafe { LLVMGetBasicBlockParent(LLVMGetInstructionParent(i)) }
    }
    pub fn terminator(&self, b: B) -> V {
        unsafe { LLVMGetBasicBlockTerminator(b) }
    }
    pub fn successors(&self, term: V) -> Vec<B> {
        let n = unsafe { LLVMGetNumSuccessors(term) };
        (0..n)
            .map(|k| unsafe { LLVMGetSuccessor(term, k) })
            .collect()
    }
    pub fn set_successor(&self, term: V, k: u32, b: B) {
        unsafe { LLVMSetSuccessor(term, k, b) }
    }
    pub fn opcode(&self, i: V) -> Option<LLVMOpcode> {
        (!unsafe { LLVMIsAInstruction(i) }.is_null())
            .then(|| unsafe { LLVMGetInstructionOpcode(i) })
    }
    pub fn operand(&self, i: V, k: u32) -> V {
        unsafe { LLVMGetOperand(i, k) }
    }
    pub fn operand_count(&self, i: V) -> u32 {
        unsafe { LLVMGetNumOperands(i) as u32 }
    }
    /// True for a `blockaddress` constant (a C label's address, `&&label`).
    pub fn is_block_address(&self, v: V) -> bool {
        !unsafe { LLVMIsABlockAddress(v) }.is_null()
    }
    pub fn type_of(&self, v: V) -> T {
        unsafe { LLVMTypeOf(v) }
    }
    pub fn is_call(&self, i: V) -> bool {
        self.opcode(i) == Some(LLVMOpcode::LLVMCall)
    }
    pub fn called_fn_type(&self, call: V) -> T {
        unsafe { LLVMGetCalledFunctionType(call) }
    }
    pub fn callee(&self, call: V) -> V {
        unsafe { LLVMGetCalledValue(call) }
    }
    /// The function a call calls directly, if it does.
    pub fn direct_callee(&self, call: V) -> Option<V> {
        let c = self.callee(call);
        (!unsafe { LLVMIsAFunction(c) }.is_null()).then_some(c)
    }
    /// The name of the directly called function ("" for indirect calls).
    pub fn callee_name(&self, call: V) -> String {
        self.direct_callee(call)
            .map(|f| self.name(f))
            .unwrap_or_default()
    }
    pub fn args(&self, call: V) -> Vec<V> {
        let n = unsafe { LLVMGetNumArgOperands(call) };
        (0..n).map(|k| self.operand(call, k)).collect()
    }
    /// The template of an inline-assembly callee.
    pub fn inline_asm_text(&self, v: V) -> String {
        let mut len = 0;
        unsafe {
            let p = LLVMGetInlineAsmAsmString(v, &mut len);
            String::from_utf8_lossy(std::slice::from_raw_parts(p as *const u8, len)).into_owned()
        }
    }
    pub fn is_inline_asm(&self, v: V) -> bool {
        !unsafe { LLVMIsAInlineAsm(v) }.is_null()
    }
    /// The constant integer `v` holds, if it is one (zero-extended).
    pub fn const_int_value(&self, v: V) -> Option<u64> {
        (!unsafe { LLVMIsAConstantInt(v) }.is_null())
            .then(|| unsafe { LLVMConstIntGetZExtValue(v) })
    }
    /// For `inttoptr (i64 N to ptr)` constants (and plain integers): N.
    pub fn const_address(&self, v: V) -> Option<u64> {
        if let Some(n) = self.const_int_value(v) {
            return Some(n);
        }
        if unsafe { LLVMIsAConstantExpr(v) }.is_null() {
            return None;
        }
        if unsafe { LLVMGetConstOpcode(v) } != LLVMOpcode::LLVMIntToPtr {
            return None;
        }
        self.const_int_value(self.operand(v, 0))
    }
    pub fn is_alloca(&self, v: V) -> bool {
        !unsafe { LLVMIsAAllocaInst(v) }.is_null()
    }
    pub fn allocated_type(&self, alloca: V) -> T {
        unsafe { LLVMGetAllocatedType(alloca) }
    }
    pub fn alignment(&self, v: V) -> u64 {
        unsafe { LLVMGetAlignment(v) as u64 }
    }
    pub fn set_alignment(&self, v: V, align: u64) {
        unsafe { LLVMSetAlignment(v, align as u32) }
    }
    pub fn fcmp_predicate(&self, i: V) -> u32 {
        unsafe { LLVMGetFCmpPredicate(i) as u32 }
    }
    pub fn erase(&self, i: V) {
        unsafe { LLVMInstructionEraseFromParent(i) }
    }
    pub fn replace_uses(&self, old: V, new: V) {
        unsafe { LLVMReplaceAllUsesWith(old, new) }
    }
    pub fn has_uses(&self, v: V) -> bool {
        !unsafe { LLVMGetFirstUse(v) }.is_null()
    }
    /// Users of `v` (a snapshot).
    pub fn users(&self, v: V) -> Vec<V> {
        let mut out = Vec::new();
        let mut u = unsafe { LLVMGetFirstUse(v) };
        while !u.is_null() {
            out.push(unsafe { LLVMGetUser(u) });
            u = unsafe { LLVMGetNextUse(u) };
        }
        out
    }

    /// The source location of an instruction, if it has one.
    pub fn loc(&self, i: V) -> Option<SourceLoc> {
        let md = unsafe { LLVMInstructionGetDebugLoc(i) };
        if md.is_null() {
            return None;
        }
        unsafe {
            let line = LLVMDILocationGetLine(md);
            let column = LLVMDILocationGetColumn(md);
            let scope = LLVMDILocationGetScope(md);
            let file = LLVMDIScopeGetFile(scope);
            let mut len = 0;
            let name = if file.is_null() {
                String::new()
            } else {
                let p = LLVMDIFileGetFilename(file, &mut len);
                String::from_utf8_lossy(std::slice::from_raw_parts(p as *const u8, len as usize))
                    .into_owned()
            };
            Some(SourceLoc {
                file: name,
                line,
                column,
            })
        }
    }

    // ----- building -----

    /// New instructions go right before `i`, with `i`'s source location.
    pub fn before(&self, i: V) {
        unsafe {
            LLVMPositionBuilderBefore(self.builder, i);
            LLVMSetCurrentDebugLocation2(self.builder, LLVMInstructionGetDebugLoc(i));
        }
    }
    /// New instructions go at the end of `b` (before nothing), keeping the location.
    pub fn at_end(&self, b: B) {
        unsafe { LLVMPositionBuilderAtEnd(self.builder, b) }
    }
    /// Sets the location of the instructions built next to `i`'s.
    pub fn loc_from(&self, i: V) {
        unsafe { LLVMSetCurrentDebugLocation2(self.builder, LLVMInstructionGetDebugLoc(i)) }
    }
    /// Gives `dst` the source location of `src`.
    pub fn copy_loc(&self, src: V, dst: V) {
        unsafe { LLVMInstructionSetDebugLoc(dst, LLVMInstructionGetDebugLoc(src)) }
    }
    /// Places the builder before the first non-alloca instruction of the
    /// entry block of `f` (where function-wide setup goes).
    pub fn at_entry(&self, f: V) {
        let first = self
            .insts(self.entry(f))
            .into_iter()
            .find(|i| !self.is_alloca(*i) && !self.is_phi(*i))
            .expect("a block ends with a terminator");
        unsafe {
            LLVMPositionBuilderBefore(self.builder, first);
            LLVMSetCurrentDebugLocation2(self.builder, std::ptr::null_mut());
        }
    }
    pub fn is_phi(&self, i: V) -> bool {
        self.opcode(i) == Some(LLVMOpcode::LLVMPHI)
    }
    /// A static stack slot of `size` bytes in `f`'s entry block.
    pub fn entry_alloca(&self, f: V, size: u64, align: u64) -> V {
        let entry = self.entry(f);
        let b = unsafe { LLVMCreateBuilderInContext(self.ctx) };
        let slot = unsafe {
            match LLVMGetFirstInstruction(entry) {
                i if i.is_null() => LLVMPositionBuilderAtEnd(b, entry),
                i => LLVMPositionBuilderBefore(b, i),
            }
            let ty = LLVMArrayType2(self.i8(), size.max(1));
            let a = LLVMBuildAlloca(b, ty, NONAME);
            LLVMDisposeBuilder(b);
            a
        };
        self.set_alignment(slot, align.max(1));
        slot
    }

    pub fn call(&self, fnty: T, callee: V, args: &[V]) -> V {
        let mut a = args.to_vec();
        unsafe {
            LLVMBuildCall2(
                self.builder,
                fnty,
                callee,
                a.as_mut_ptr(),
                a.len() as u32,
                NONAME,
            )
        }
    }
    /// Calls the runtime function `name` (declared with `fnty` if needed).
    pub fn call_named(&self, name: &str, fnty: T, args: &[V]) -> V {
        let f = self.declare(name, fnty);
        self.call(fnty, f, args)
    }
    pub fn const_int(&self, t: T, v: u64) -> V {
        unsafe { LLVMConstInt(t, v, 0) }
    }
    pub fn i64c(&self, v: u64) -> V {
        self.const_int(self.i64(), v)
    }
    pub fn load(&self, t: T, p: V, align: u64) -> V {
        unsafe {
            let l = LLVMBuildLoad2(self.builder, t, p, NONAME);
            LLVMSetAlignment(l, align as u32);
            l
        }
    }
    pub fn store(&self, v: V, p: V, align: u64) -> V {
        unsafe {
            let s = LLVMBuildStore(self.builder, v, p);
            LLVMSetAlignment(s, align as u32);
            s
        }
    }
    /// `p + offset` bytes.
    pub fn offset(&self, p: V, offset: u64) -> V {
        if offset == 0 {
            return p;
        }
        let mut idx = [self.i64c(offset)];
        unsafe { LLVMBuildGEP2(self.builder, self.i8(), p, idx.as_mut_ptr(), 1, NONAME) }
    }
    pub fn binop(&self, op: LLVMOpcode, a: V, b: V) -> V {
        unsafe { LLVMBuildBinOp(self.builder, op, a, b, NONAME) }
    }
    pub fn icmp(&self, pred: LLVMIntPredicate, a: V, b: V) -> V {
        unsafe { LLVMBuildICmp(self.builder, pred, a, b, NONAME) }
    }
    pub fn select(&self, c: V, a: V, b: V) -> V {
        unsafe { LLVMBuildSelect(self.builder, c, a, b, NONAME) }
    }
    pub fn cast(&self, op: LLVMOpcode, v: V, t: T) -> V {
        unsafe { LLVMBuildCast(self.builder, op, v, t, NONAME) }
    }
    pub fn insert(&self, agg: V, v: V, k: u32) -> V {
        unsafe { LLVMBuildInsertValue(self.builder, agg, v, k, NONAME) }
    }
    pub fn poison(&self, t: T) -> V {
        unsafe { LLVMGetPoison(t) }
    }
    pub fn unreachable(&self) -> V {
        unsafe { LLVMBuildUnreachable(self.builder) }
    }
    pub fn cond_br(&self, c: V, then: B, otherwise: B) -> V {
        unsafe { LLVMBuildCondBr(self.builder, c, then, otherwise) }
    }
    pub fn ret(&self, v: Option<V>) -> V {
        unsafe {
            match v {
                Some(v) => LLVMBuildRet(self.builder, v),
                None => LLVMBuildRetVoid(self.builder),
            }
        }
    }
    /// A new empty block at the end of `f`.
    pub fn new_block(&self, f: V) -> B {
        unsafe { LLVMAppendBasicBlockInContext(self.ctx, f, NONAME) }
    }

    /// Integer `v` widened (or narrowed) to 64 bits; `signed` picks sign extension.
    pub fn to_i64(&self, v: V, signed: bool) -> V {
        let w = self.int_width(self.type_of(v)).expect("an integer");
        match w.cmp(&64) {
            std::cmp::Ordering::Equal => v,
            std::cmp::Ordering::Less if signed => self.cast(LLVMOpcode::LLVMSExt, v, self.i64()),
            std::cmp::Ordering::Less => self.cast(LLVMOpcode::LLVMZExt, v, self.i64()),
            std::cmp::Ordering::Greater => self.cast(LLVMOpcode::LLVMTrunc, v, self.i64()),
        }
    }

    /// Moves everything after `i` in its block into a new block that
    /// follows it, and returns that block. The old block is left without a
    /// terminator; phis in the successors are rebuilt to name the new block.
    pub fn split_after(&self, i: V) -> B {
        let head = self.block_of(i);
        let tail = self.new_block(self.function_of(i));
        unsafe { LLVMMoveBasicBlockAfter(tail, head) };
        let mut next = unsafe { LLVMGetNextInstruction(i) };
        let b = unsafe { LLVMCreateBuilderInContext(self.ctx) };
        unsafe { LLVMPositionBuilderAtEnd(b, tail) };
        while !next.is_null() {
            let after = unsafe { LLVMGetNextInstruction(next) };
            unsafe {
                LLVMInstructionRemoveFromParent(next);
                LLVMInsertIntoBuilder(b, next);
            }
            next = after;
        }
        unsafe { LLVMDisposeBuilder(b) };
        let term = self.terminator(tail);
        if !term.is_null() {
            for succ in self.successors(term) {
                self.retarget_phis(succ, head, tail);
            }
        }
        tail
    }

    /// In block `b`, phis that name `from` as an incoming block name `to` instead.
    pub fn retarget_phis(&self, b: B, from: B, to: B) {
        for phi in self.insts(b).into_iter().take_while(|i| self.is_phi(*i)) {
            let n = unsafe { LLVMCountIncoming(phi) };
            let incoming: Vec<(V, B)> = (0..n)
                .map(|k| unsafe { (LLVMGetIncomingValue(phi, k), LLVMGetIncomingBlock(phi, k)) })
                .collect();
            if !incoming.iter().any(|(_, blk)| *blk == from) {
                continue;
            }
            unsafe {
                let b2 = LLVMCreateBuilderInContext(self.ctx);
                LLVMPositionBuilderBefore(b2, phi);
                let new = LLVMBuildPhi(b2, self.type_of(phi), NONAME);
                LLVMDisposeBuilder(b2);
                for (mut v, blk) in incoming {
                    let mut blk = if blk == from { to } else { blk };
                    LLVMAddIncoming(new, &mut v, &mut blk, 1);
                }
                LLVMInstructionSetDebugLoc(new, LLVMInstructionGetDebugLoc(phi));
                self.replace_uses(phi, new);
                self.erase(phi);
            }
        }
    }
}

/// The base name of an intrinsic: `llvm.memcpy.p0.p0.i64` -> `llvm.memcpy`,
/// `llvm.is.fpclass.f64` -> `llvm.is.fpclass`. `None` for other names.
pub(crate) fn intrinsic_base(name: &str) -> Option<&str> {
    if !name.starts_with("llvm.") {
        return None;
    }
    let mut end = name.len();
    for part in name.rsplit('.') {
        if is_type_suffix(part) {
            end -= part.len() + 1;
        } else {
            break;
        }
    }
    Some(&name[..end])
}

fn is_type_suffix(s: &str) -> bool {
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    match s {
        "f16" | "f32" | "f64" | "f80" | "f128" | "bf16" | "ppcf128" | "isVoid" => true,
        _ => {
            (s.len() > 1 && (s.starts_with('i') || s.starts_with('p')) && digits(&s[1..]))
                || (s.starts_with('v')
                    && s[1..]
                        .find(|c: char| !c.is_ascii_digit())
                        .is_some_and(|k| k > 0))
                || s.starts_with("nxv")
                || s.starts_with("s_")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::intrinsic_base;

    #[test]
    fn intrinsic_names_lose_their_type_suffixes() {
        assert_eq!(intrinsic_base("llvm.memcpy.p0.p0.i64"), Some("llvm.memcpy"));
        assert_eq!(
            intrinsic_base("llvm.is.fpclass.f64"),
            Some("llvm.is.fpclass")
        );
        assert_eq!(intrinsic_base("llvm.va_start.p0"), Some("llvm.va_start"));
        assert_eq!(intrinsic_base("llvm.ubsantrap"), Some("llvm.ubsantrap"));
        assert_eq!(
            intrinsic_base("llvm.smul.with.overflow.i64"),
            Some("llvm.smul.with.overflow")
        );
        assert_eq!(
            intrinsic_base("llvm.fptosi.sat.i32.f64"),
            Some("llvm.fptosi.sat")
        );
        assert_eq!(intrinsic_base("printf"), None);
    }
}
