//! Global variables and constant expressions: sections, initializers,
//! where a global was declared, and rebuilding a constant expression as
//! instructions (to replace one of its operands by a run-time value).

use super::{cstring, Ir, SourceLoc, B, T, V};
use llvm_sys::core::*;
use llvm_sys::debuginfo::{
    LLVMDIFileGetFilename, LLVMDIGlobalVariableExpressionGetVariable, LLVMDIVariableGetFile,
    LLVMDIVariableGetLine,
};
use llvm_sys::LLVMOpcode;
use std::ffi::CStr;

/// An empty name for new values (LLVM numbers them).
const NONAME: *const std::ffi::c_char = c"".as_ptr();

impl Ir {
    /// The global variables of the module (snapshot).
    pub fn globals(&self) -> Vec<V> {
        let mut out = Vec::new();
        let mut g = unsafe { LLVMGetFirstGlobal(self.module) };
        while !g.is_null() {
            out.push(g);
            g = unsafe { LLVMGetNextGlobal(g) };
        }
        out
    }
    pub fn is_global_variable(&self, v: V) -> bool {
        !unsafe { LLVMIsAGlobalVariable(v) }.is_null()
    }
    pub fn is_instruction(&self, v: V) -> bool {
        !unsafe { LLVMIsAInstruction(v) }.is_null()
    }
    pub fn is_constant_expr(&self, v: V) -> bool {
        !unsafe { LLVMIsAConstantExpr(v) }.is_null()
    }
    /// The section a global is placed in, if the source named one.
    pub fn section(&self, g: V) -> Option<String> {
        let p = unsafe { LLVMGetSection(g) };
        (!p.is_null())
            .then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
            .filter(|s| !s.is_empty())
    }
    /// Places a global in `section` ("" removes the section).
    pub fn set_section(&self, g: V, section: &str) {
        unsafe { LLVMSetSection(g, cstring(section).as_ptr()) }
    }
    /// A global variable's initial value (`None` for declarations).
    pub fn initializer(&self, g: V) -> Option<V> {
        let v = unsafe { LLVMGetInitializer(g) };
        (!v.is_null()).then_some(v)
    }
    /// True for a constant whose bits are all zero.
    pub fn is_null_value(&self, v: V) -> bool {
        unsafe { LLVMIsNull(v) != 0 }
    }
    pub fn set_operand(&self, user: V, k: u32, v: V) {
        unsafe { LLVMSetOperand(user, k, v) }
    }
    /// `ptrtoint` of a constant pointer to `i64`, as a constant.
    pub fn const_ptr_to_int(&self, v: V) -> V {
        unsafe { LLVMConstPtrToInt(v, self.i64()) }
    }

    /// Where a global variable was declared, from its debug info.
    pub fn global_loc(&self, g: V) -> Option<SourceLoc> {
        let dbg = unsafe { LLVMGetMDKindIDInContext(self.ctx, c"dbg".as_ptr(), 3) };
        let mut n = 0;
        let entries = unsafe { LLVMGlobalCopyAllMetadata(g, &mut n) };
        if entries.is_null() {
            return None;
        }
        let mut out = None;
        for k in 0..n as u32 {
            if unsafe { LLVMValueMetadataEntriesGetKind(entries, k) } != dbg {
                continue;
            }
            unsafe {
                let gve = LLVMValueMetadataEntriesGetMetadata(entries, k);
                let var = LLVMDIGlobalVariableExpressionGetVariable(gve);
                if var.is_null() {
                    continue;
                }
                let file = LLVMDIVariableGetFile(var);
                let mut len = 0;
                let name = if file.is_null() {
                    String::new()
                } else {
                    let p = LLVMDIFileGetFilename(file, &mut len);
                    String::from_utf8_lossy(std::slice::from_raw_parts(
                        p as *const u8,
                        len as usize,
                    ))
                    .into_owned()
                };
                out = Some(SourceLoc {
                    file: name,
                    line: LLVMDIVariableGetLine(var),
                    column: 0,
                });
            }
            break;
        }
        unsafe { LLVMDisposeValueMetadataEntries(entries) };
        out
    }

    /// Builds constant expression `ce` as an instruction (at the builder's
    /// position) with operand values `ops`. `None` for opcodes that have no
    /// instruction form here.
    pub fn build_const_expr(&self, ce: V, ops: &[V]) -> Option<V> {
        let op = unsafe { LLVMGetConstOpcode(ce) };
        let b = self.builder;
        Some(unsafe {
            match op {
                LLVMOpcode::LLVMGetElementPtr => {
                    let ty: T = LLVMGetGEPSourceElementType(ce);
                    let mut idx = ops[1..].to_vec();
                    let n = idx.len() as u32;
                    if LLVMIsInBounds(ce) != 0 {
                        LLVMBuildInBoundsGEP2(b, ty, ops[0], idx.as_mut_ptr(), n, NONAME)
                    } else {
                        LLVMBuildGEP2(b, ty, ops[0], idx.as_mut_ptr(), n, NONAME)
                    }
                }
                LLVMOpcode::LLVMPtrToInt
                | LLVMOpcode::LLVMIntToPtr
                | LLVMOpcode::LLVMBitCast
                | LLVMOpcode::LLVMAddrSpaceCast
                | LLVMOpcode::LLVMTrunc => LLVMBuildCast(b, op, ops[0], self.type_of(ce), NONAME),
                LLVMOpcode::LLVMAdd
                | LLVMOpcode::LLVMSub
                | LLVMOpcode::LLVMMul
                | LLVMOpcode::LLVMXor
                | LLVMOpcode::LLVMAnd
                | LLVMOpcode::LLVMOr
                | LLVMOpcode::LLVMShl => LLVMBuildBinOp(b, op, ops[0], ops[1], NONAME),
                _ => return None,
            }
        })
    }

    /// New instructions go before the terminator of `b`.
    pub fn before_terminator(&self, b: B) {
        let t = self.terminator(b);
        unsafe {
            LLVMPositionBuilderBefore(self.builder, t);
            LLVMSetCurrentDebugLocation2(self.builder, std::ptr::null_mut());
        }
    }
    /// New instructions go right after `i`, without a source location.
    pub fn after(&self, i: V) {
        unsafe {
            let next = LLVMGetNextInstruction(i);
            LLVMPositionBuilderBefore(self.builder, next);
            LLVMSetCurrentDebugLocation2(self.builder, std::ptr::null_mut());
        }
    }
    /// `p + offset` bytes, `offset` an `i64` value.
    pub fn gep_i8(&self, p: V, offset: V) -> V {
        let mut idx = [offset];
        unsafe { LLVMBuildGEP2(self.builder, self.i8(), p, idx.as_mut_ptr(), 1, NONAME) }
    }
    /// An enum attribute with a value (`memory(none)` is `("memory", 0)`).
    pub fn enum_attr_value(&self, name: &str, value: u64) -> llvm_sys::prelude::LLVMAttributeRef {
        unsafe { LLVMCreateEnumAttribute(self.ctx, self.attr_kind(name), value) }
    }
    /// The incoming block of operand `k` of a phi.
    pub fn incoming_block(&self, phi: V, k: u32) -> B {
        unsafe { LLVMGetIncomingBlock(phi, k) }
    }
}
