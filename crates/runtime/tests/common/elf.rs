//! Loads the `.text` of a committed clang-built BPF object into a VM, with
//! calls to undefined functions bound to the runtime's helpers: the least
//! of what the linker does, enough to run fixtures that use no data.

use bpf_runtime::Runtime;
use bpf_vm::{isa, HelperImpl, Vm};
use object::{Object, ObjectSection, ObjectSymbol, RelocationFlags, RelocationTarget};
use std::collections::HashMap;
use std::path::PathBuf;

/// `R_BPF_64_32`: the relocation of a `call` to a named function.
const R_BPF_64_32: u32 = 10;

pub struct Loaded {
    pub vm: Vm,
    /// Function name -> code slot of its first instruction.
    pub entries: HashMap<String, usize>,
}

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Loads `tests/fixtures/<name>`; panics on anything a fixture should not have.
pub fn load(name: &str, rt: &Runtime) -> Loaded {
    let data = std::fs::read(fixture(name)).expect("read fixture");
    let file = object::File::parse(&*data).expect("parse fixture");
    let text = file.section_by_name(".text").expect(".text");
    let mut insns = isa::decode(text.data().unwrap()).expect("whole instructions");
    let helpers = rt.helpers();
    let ids: HashMap<&str, u32> = helpers
        .iter()
        .enumerate()
        .map(|(i, (name, _))| (*name, i as u32 + 1))
        .collect();
    for (offset, rel) in text.relocations() {
        assert_eq!(
            rel.flags(),
            RelocationFlags::Elf {
                r_type: object::elf::RelocationType(R_BPF_64_32)
            },
            "unexpected relocation at {offset:#x}"
        );
        let RelocationTarget::Symbol(idx) = rel.target() else {
            panic!("relocation without a symbol at {offset:#x}");
        };
        let sym = file.symbol_by_index(idx).unwrap();
        assert!(
            sym.is_undefined(),
            "call to a defined function at {offset:#x}"
        );
        let name = sym.name().unwrap();
        let id = ids
            .get(name)
            .unwrap_or_else(|| panic!("no runtime helper {name}"));
        let slot = &mut insns[offset as usize / isa::INSN_SIZE];
        slot.src = isa::CALL_RUNTIME; // runtime helper call
        slot.imm = *id as i32;
    }
    let mut vm = Vm::default();
    let start = vm.load_code(&insns).expect("valid code");
    for (i, (name, f)) in helpers.into_iter().enumerate() {
        match f {
            HelperImpl::Plain(f) => vm.register_runtime_helper(i as u32 + 1, name, f),
            HelperImpl::Callback(f) => vm.register_runtime_callback_helper(i as u32 + 1, name, f),
        }
    }
    let mut entries = HashMap::new();
    for sym in file.symbols() {
        if sym.section_index() == Some(text.index()) && sym.kind() == object::SymbolKind::Text {
            let slot = start + sym.address() as usize / isa::INSN_SIZE;
            vm.mark_entry(slot);
            entries.insert(sym.name().unwrap().to_string(), slot);
        }
    }
    Loaded { vm, entries }
}

impl Loaded {
    pub fn call(&mut self, func: &str, args: &[u64]) -> Result<u64, bpf_vm::Trap> {
        let entry = self.entries[func];
        self.vm.call(entry, args)
    }
}
