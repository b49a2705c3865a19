//! Reading a final expression's value back out of the VM with the type
//! DWARF gives it, and saying traps in the user's terms. Types come from
//! the linker session's cached parse of each object's DWARF (the one
//! backtraces use), converted once per object.

use super::analysis::ValueForm;
use super::Repl;
use crate::dwarf::DebugInfo;
use crate::value;
use bpf_linker::CallError;
use bpf_runtime::{HeapPlace, Runtime};
use bpf_vm::{HelperError, Memory, Trap, TrapKind};
use std::rc::Rc;

/// Per linked object: its globals' types (filled on first use).
#[derive(Default)]
pub(super) struct TypeCache {
    objects: std::cell::RefCell<Vec<Option<Rc<DebugInfo>>>>,
}

impl TypeCache {
    /// Forgets objects from `first` on (they were unlinked).
    pub(super) fn truncate(&self, first: usize) {
        self.objects.borrow_mut().truncate(first);
    }
}

impl Repl {
    /// The types of the globals of linked object `index`.
    pub(super) fn types_of(&self, index: usize) -> Option<Rc<DebugInfo>> {
        let mut cache = self.types.objects.borrow_mut();
        if cache.len() <= index {
            cache.resize(index + 1, None);
        }
        if let Some(info) = &cache[index] {
            return Some(info.clone());
        }
        let object = self.session.objects().get(index)?;
        let dwarf = self.session.debug_info(index)?;
        let info = Rc::new(DebugInfo::from_dwarf(&object.name, dwarf.dwarf()).ok()?);
        cache[index] = Some(info.clone());
        Some(info)
    }

    /// Reads input `n`'s value (brought out in `form`) and formats it with its C type.
    pub(super) fn read_value(&self, n: usize, form: ValueForm) -> Option<String> {
        let index = self.session.objects().len().checked_sub(1)?;
        let debug = self.types_of(index)?;
        let mem = &self.session.vm().mem;
        let symbolize = |addr: u64| self.symbolize(addr);
        let pointees = HeapCheckedMemory {
            mem,
            runtime: &self.runtime,
        };
        match form {
            ValueForm::Copy | ValueForm::ArrayCopy | ValueForm::Address => {
                let name = format!("__repl_val_{n}");
                let ty = debug.variable_type(&name)?;
                let sym = self.session.lookup(&name)?;
                let bytes = read_unshadowed(mem, sym.addr, ty.size() as usize)?;
                Some(value::format_value(ty, &bytes, &pointees, &symbolize))
            }
            ValueForm::Reference => {
                let name = format!("__repl_ref_{n}");
                let ptr_ty = debug.variable_type(&name)?;
                let crate::ctype::CType::Pointer(ty) = ptr_ty.strip_typedefs() else {
                    return None;
                };
                let sym = self.session.lookup(&name)?;
                let at = read_unshadowed(mem, sym.addr, 8)?;
                let at = u64::from_le_bytes(at.try_into().ok()?);
                let bytes = read_unshadowed(mem, at, ty.size() as usize)?;
                Some(value::format_value(ty, &bytes, &pointees, &symbolize))
            }
            ValueForm::Discard => None,
        }
    }

    /// `name` or `name+0x10` for a code or data address, if it is one.
    pub fn symbolize(&self, addr: u64) -> Option<String> {
        if let Some(helper) = self.session.helper_at(addr) {
            return Some(helper.to_string());
        }
        let syms = self.session.symbols();
        let exact = syms.iter().find(|s| s.addr == addr || s.body == addr)?;
        if exact.name.starts_with("__repl_") {
            return None;
        }
        Some(exact.name.clone())
    }

    pub(super) fn describe_call_error(&self, e: &CallError) -> String {
        match e {
            CallError::Trap(t) => self.describe_trap(t),
            other => other.to_string(),
        }
    }

    /// A trap as the user should read it: the cause, then a backtrace with
    /// one line per BPF frame, innermost first (`#0 poke at input 7:1:32`).
    pub fn describe_trap(&self, t: &Trap) -> String {
        if matches!(t.kind, TrapKind::Deadlock(_)) {
            // Each blocked thread with its own backtrace.
            return self.session.trap_report(t, describe_frame);
        }
        let mut frames = self.session.backtrace(t);
        let mut msg = match self.session.undefined_function_at(t.pc) {
            Some(name) => {
                frames.remove(0);
                format!("call to `{name}`, which is declared but not defined yet")
            }
            None => match &t.kind {
                TrapKind::Helper {
                    helper,
                    error: HelperError::Memory(e),
                } => format!("in {}: invalid memory access: {e}", c_function(helper)),
                TrapKind::Helper {
                    error: HelperError::Exit(code),
                    ..
                } => format!(
                    "the program called exit({code}): this input ends here and is undone \
                     (output before the exit is kept); the session goes on"
                ),
                TrapKind::Helper {
                    error: HelperError::Abort(m),
                    ..
                } if m.starts_with("abort()") => {
                    format!("{m}: this input ends here and is undone; the session goes on")
                }
                kind => kind.to_string(),
            },
        };
        msg.push_str(&bpf_linker::format_backtrace(&frames, describe_frame));
        msg.push_str(&self.memcheck_details(t));
        msg
    }

    /// What memcheck adds to a trap's report: the heap block or global the
    /// faulting byte is in or after, with the block's allocation and free
    /// stacks (also for a helper's fault about a heap pointer, such as a
    /// double free).
    fn memcheck_details(&self, trap: &Trap) -> String {
        let (at, info) = match bpf_linker::memcheck::poisoned_byte(trap) {
            Some(at) => (at, self.runtime.heap_block_info(at)),
            None => match (&trap.kind, self.runtime.take_blamed_block()) {
                (TrapKind::Helper { .. }, Some(b)) => (b.start, Some(b)),
                _ => return String::new(),
            },
        };
        let block = info.as_ref().map(|b| bpf_linker::memcheck::HeapBlock {
            start: b.start,
            size: b.size,
            allocated_at: &b.allocated_at,
            freed_at: b.freed_at.as_deref(),
        });
        self.session.memcheck_details(at, block, describe_frame)
    }
}

/// `len` bytes of VM memory as they are, whatever memcheck's shadow says
/// of them (printing a value never faults on a red zone).
fn read_unshadowed(mem: &Memory, addr: u64, len: usize) -> Option<Vec<u8>> {
    mem.slice_unshadowed(addr, len).ok().map(<[u8]>::to_vec)
}

/// The C function a runtime helper implements: the IR stage calls
/// `__bpf_memcpy` for a `memcpy` it could not expand, strict mode
/// `__bpf_strict_printf` for `printf`.
fn c_function(helper: &str) -> &str {
    match helper.strip_prefix("__bpf_") {
        Some(name @ ("memcpy" | "memmove" | "memset")) => name,
        _ => bpf_runtime::c_name(helper),
    }
}

/// VM memory as the value printer follows pointers into it: heap bytes
/// are readable only inside live blocks, up to their requested size, so a
/// dangling `char *` prints as such instead of as freed bytes.
struct HeapCheckedMemory<'a> {
    mem: &'a Memory,
    runtime: &'a Runtime,
}

impl value::ReadMemory for HeapCheckedMemory<'_> {
    fn read(&self, addr: u64, len: usize) -> Option<Vec<u8>> {
        match self.runtime.heap_place(addr) {
            HeapPlace::Outside => {}
            HeapPlace::Live { start, size } => {
                let end = addr.checked_add(len as u64)?;
                if end > start + size as u64 {
                    return None;
                }
            }
            HeapPlace::Freed { .. } | HeapPlace::Unallocated => return None,
        }
        read_unshadowed(self.mem, addr, len)
    }

    fn why_unreadable(&self, addr: u64) -> Option<String> {
        match self.runtime.heap_place(addr) {
            HeapPlace::Outside => None,
            HeapPlace::Live { start, size } => Some(format!(
                "{addr:#x} is past the end of the {size}-byte heap block at {start:#x}"
            )),
            HeapPlace::Freed { start } if start == addr => Some("freed heap block".to_string()),
            HeapPlace::Freed { start } => {
                Some(format!("inside the freed heap block at {start:#x}"))
            }
            HeapPlace::Unallocated => Some("heap memory never allocated".to_string()),
        }
    }
}

/// The name users know a function by: REPL wrappers are `<input N>`.
pub fn display_function(name: &str) -> String {
    match name.strip_prefix("__repl_run_") {
        Some(n) => format!("<input {n}>"),
        None => name.to_string(),
    }
}

/// One backtrace line: `poke at input 7:1:32`, or `poke+0x8 in input 7`
/// when the object has no line info.
pub fn describe_frame(f: &bpf_linker::BacktraceFrame) -> String {
    f.describe_as(&display_function(&f.function))
}
