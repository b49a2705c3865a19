//! Rewriting calls and functions: attributes, a call rebuilt with new
//! arguments, a function given a new signature with its body moved over.

use super::{cstring, Ir, T, V};
use llvm_sys::core::*;
use llvm_sys::debuginfo::{LLVMGetSubprogram, LLVMSetSubprogram};
use llvm_sys::prelude::*;

impl Ir {
    /// Builds a copy of `call` that calls `callee` with type `fnty` and
    /// arguments `args`; `param_attrs_from[k]` names the old argument whose
    /// attributes the new argument `k` keeps. Function and return
    /// attributes, calling convention, tail-call kind and location are
    /// kept. The new call is placed before the old one, which is not removed.
    pub fn rebuild_call(
        &self,
        call: V,
        fnty: T,
        callee: V,
        args: &[V],
        param_attrs_from: &[Option<usize>],
    ) -> V {
        self.before(call);
        let new = self.call(fnty, callee, args);
        unsafe {
            LLVMSetInstructionCallConv(new, LLVMGetInstructionCallConv(call));
            LLVMSetTailCallKind(new, LLVMGetTailCallKind(call));
            // Result attributes only while the result keeps its type.
            let same_result = self.return_type(fnty) == self.return_type(self.called_fn_type(call));
            let mut indices = vec![llvm_sys::LLVMAttributeFunctionIndex];
            if same_result {
                indices.push(llvm_sys::LLVMAttributeReturnIndex);
            }
            for idx in indices {
                for a in self.call_attrs(call, idx) {
                    LLVMAddCallSiteAttribute(new, idx, a);
                }
            }
            for (k, from) in param_attrs_from.iter().enumerate() {
                if let Some(from) = from {
                    for a in self.call_attrs(call, *from as u32 + 1) {
                        LLVMAddCallSiteAttribute(new, k as u32 + 1, a);
                    }
                }
            }
        }
        new
    }

    pub fn call_attrs(&self, call: V, idx: u32) -> Vec<LLVMAttributeRef> {
        unsafe {
            let n = LLVMGetCallSiteAttributeCount(call, idx) as usize;
            let mut v = vec![std::ptr::null_mut(); n];
            LLVMGetCallSiteAttributes(call, idx, v.as_mut_ptr());
            v
        }
    }
    pub fn fn_attrs(&self, f: V, idx: u32) -> Vec<LLVMAttributeRef> {
        unsafe {
            let n = LLVMGetAttributeCountAtIndex(f, idx) as usize;
            let mut v = vec![std::ptr::null_mut(); n];
            LLVMGetAttributesAtIndex(f, idx, v.as_mut_ptr());
            v
        }
    }
    /// The enum attribute kind id of `name` (e.g. "byval").
    pub fn attr_kind(&self, name: &str) -> u32 {
        unsafe { LLVMGetEnumAttributeKindForName(name.as_ptr() as *const _, name.len()) }
    }
    /// The type a call's or function's `byval`/`sret` parameter attribute names.
    pub fn type_attr(&self, attrs: &[LLVMAttributeRef], kind: u32) -> Option<T> {
        attrs.iter().find_map(|a| unsafe {
            (LLVMIsTypeAttribute(*a) != 0 && LLVMGetEnumAttributeKind(*a) == kind)
                .then(|| LLVMGetTypeAttributeValue(*a))
        })
    }
    pub fn has_enum_attr(&self, attrs: &[LLVMAttributeRef], kind: u32) -> bool {
        attrs.iter().any(|a| unsafe {
            (LLVMIsEnumAttribute(*a) != 0 || LLVMIsTypeAttribute(*a) != 0)
                && LLVMGetEnumAttributeKind(*a) == kind
        })
    }
    pub fn is_attr_kind(&self, a: LLVMAttributeRef, kind: u32) -> bool {
        unsafe {
            (LLVMIsEnumAttribute(a) != 0 || LLVMIsTypeAttribute(a) != 0)
                && LLVMGetEnumAttributeKind(a) == kind
        }
    }
    pub fn remove_call_attr(&self, call: V, idx: u32, kind: u32) {
        unsafe { LLVMRemoveCallSiteEnumAttribute(call, idx, kind) }
    }
    pub fn remove_fn_attr(&self, f: V, idx: u32, kind: u32) {
        unsafe { LLVMRemoveEnumAttributeAtIndex(f, idx, kind) }
    }
    pub fn add_fn_attr(&self, f: V, idx: u32, a: LLVMAttributeRef) {
        unsafe { LLVMAddAttributeAtIndex(f, idx, a) }
    }
    pub fn enum_attr(&self, name: &str) -> LLVMAttributeRef {
        unsafe { LLVMCreateEnumAttribute(self.ctx, self.attr_kind(name), 0) }
    }

    /// Replaces function `old` by a new function of type `fnty` with the
    /// same name, linkage, attributes (parameters: `param_attrs_from`),
    /// section and debug info, and moves `old`'s body into it. Uses of `old`
    /// become uses of the new function; `old`'s parameters are left for the
    /// caller to replace (see [`Ir::params`] of the returned pair) and `old`
    /// is deleted by [`Ir::finish_replace`].
    pub fn clone_signature(&self, old: V, fnty: T, param_attrs_from: &[Option<usize>]) -> V {
        let name = self.name(old);
        self.set_name(old, "");
        let new = unsafe { LLVMAddFunction(self.module, cstring(&name).as_ptr(), fnty) };
        unsafe {
            LLVMSetLinkage(new, LLVMGetLinkage(old));
            LLVMSetVisibility(new, LLVMGetVisibility(old));
            LLVMSetFunctionCallConv(new, LLVMGetFunctionCallConv(old));
            LLVMSetUnnamedAddress(new, LLVMGetUnnamedAddress(old));
            LLVMSetDLLStorageClass(new, LLVMGetDLLStorageClass(old));
            let section = LLVMGetSection(old);
            if !section.is_null() {
                LLVMSetSection(new, section);
            }
            LLVMSetAlignment(new, LLVMGetAlignment(old));
            if LLVMHasPersonalityFn(old) != 0 {
                LLVMSetPersonalityFn(new, LLVMGetPersonalityFn(old));
            }
            LLVMSetSubprogram(new, LLVMGetSubprogram(old));
        }
        let mut indices = vec![llvm_sys::LLVMAttributeFunctionIndex];
        if self.return_type(fnty) == self.return_type(self.function_type(old)) {
            indices.push(llvm_sys::LLVMAttributeReturnIndex);
        }
        for idx in indices {
            for a in self.fn_attrs(old, idx) {
                self.add_fn_attr(new, idx, a);
            }
        }
        for (k, from) in param_attrs_from.iter().enumerate() {
            if let Some(from) = from {
                for a in self.fn_attrs(old, *from as u32 + 1) {
                    self.add_fn_attr(new, k as u32 + 1, a);
                }
            }
        }
        for b in self.blocks(old) {
            unsafe {
                LLVMRemoveBasicBlockFromParent(b);
                LLVMAppendExistingBasicBlock(new, b);
            }
        }
        new
    }

    /// Drops attributes that no longer fit after a result became indirect
    /// (`noundef` on `void`, `returned` parameters), on a function or call.
    pub fn drop_result_attrs(&self, v: V, nparams: usize, is_call: bool) {
        let ret = llvm_sys::LLVMAttributeReturnIndex;
        let kinds: Vec<u32> = if is_call {
            self.call_attrs(v, ret)
        } else {
            self.fn_attrs(v, ret)
        }
        .into_iter()
        .filter_map(|a| unsafe {
            (LLVMIsEnumAttribute(a) != 0 || LLVMIsTypeAttribute(a) != 0)
                .then(|| LLVMGetEnumAttributeKind(a))
        })
        .collect();
        let returned = self.attr_kind("returned");
        unsafe {
            for k in kinds {
                if is_call {
                    LLVMRemoveCallSiteEnumAttribute(v, ret, k);
                } else {
                    LLVMRemoveEnumAttributeAtIndex(v, ret, k);
                }
            }
            for p in 0..nparams as u32 {
                if is_call {
                    LLVMRemoveCallSiteEnumAttribute(v, p + 1, returned);
                } else {
                    LLVMRemoveEnumAttributeAtIndex(v, p + 1, returned);
                }
            }
        }
    }

    /// Ends [`Ir::clone_signature`]: uses of `old` go to `new`, `old` is deleted.
    pub fn finish_replace(&self, old: V, new: V) {
        self.replace_uses(old, new);
        unsafe { LLVMDeleteFunction(old) };
    }
}
