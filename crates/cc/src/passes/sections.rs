//! One section per global variable (what `-fdata-sections` does in a
//! code generator; ours is the IR stage's own target machine): the linker
//! places sections, so under memcheck every global gets its own red zone
//! and an overflow into its neighbour is caught.
//!
//! Named globals defined here without a section of their own get
//! `.rodata.NAME` (constants), `.bss.NAME` (zero initializers) or
//! `.data.NAME`. Private globals (string literals, compiler temporaries),
//! common symbols, thread-local variables and `llvm.*` globals keep theirs.

use super::Cx;
use crate::ir::cstring;
use llvm_sys::core::*;
use llvm_sys::LLVMLinkage;
use std::ffi::CStr;

pub(crate) fn run(cx: &mut Cx) {
    if cx.strict {
        return; // plain BPF keeps clang's sections
    }
    let module = cx.ir.module;
    // SAFETY: walking and editing globals of a live module.
    unsafe {
        let mut g = LLVMGetFirstGlobal(module);
        while !g.is_null() {
            place(g);
            g = LLVMGetNextGlobal(g);
        }
    }
}

/// # Safety
/// `g` is a global variable of a live module.
unsafe fn place(g: llvm_sys::prelude::LLVMValueRef) {
    // Thread-local variables keep `.tdata`/`.tbss`: they live in the TLS
    // template, not in a data region.
    if LLVMIsDeclaration(g) != 0 || LLVMIsThreadLocal(g) != 0 {
        return;
    }
    if matches!(
        LLVMGetLinkage(g),
        LLVMLinkage::LLVMPrivateLinkage | LLVMLinkage::LLVMCommonLinkage
    ) {
        return;
    }
    let section = LLVMGetSection(g);
    if !section.is_null() && !CStr::from_ptr(section).to_bytes().is_empty() {
        return;
    }
    let mut len = 0;
    let name = LLVMGetValueName2(g, &mut len);
    let name = String::from_utf8_lossy(std::slice::from_raw_parts(name.cast(), len));
    if name.is_empty() || name.starts_with("llvm.") {
        return;
    }
    let init = LLVMGetInitializer(g);
    let prefix = if LLVMIsGlobalConstant(g) != 0 {
        ".rodata"
    } else if init.is_null() || LLVMIsNull(init) != 0 {
        ".bss"
    } else {
        ".data"
    };
    LLVMSetSection(g, cstring(&format!("{prefix}.{name}")).as_ptr());
}
