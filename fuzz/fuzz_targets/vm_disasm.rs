//! `vm_disasm`: arbitrary bytes as instruction slots through the
//! disassembler.
//!
//! Checks: every slot disassembles (listing, single instruction, with and
//! without symbols) without a panic, whatever its fields and wherever the
//! listing is placed; and, as the disassembler promises, no instruction
//! that validation accepts prints as `<unknown>`.
//!
//! Input: the bytes, 8 a slot; the 0-7 bytes left over are the listing's
//! base slot index (little-endian), so raw bytecode is a seed as it is.

#![no_main]

use bpf_vm::disasm::{disasm_insn, disasm_listing, listing_line, NoSymbols, SymbolTable};
use bpf_vm::{validate, Insn};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let slots = data.chunks_exact(8);
    let mut base = [0u8; 8];
    base[..slots.remainder().len()].copy_from_slice(slots.remainder());
    let base = u64::from_le_bytes(base) as usize;
    let code: Vec<Insn> = slots
        .map(|c| Insn::from_bytes(c.try_into().unwrap()))
        .collect();

    let plain = disasm_listing(&code, base, &NoSymbols);
    let mut symbols = SymbolTable::new();
    symbols.annotate_calls(true);
    for (i, insn) in code.iter().enumerate().step_by(3) {
        symbols.insert((base as u64).wrapping_add(i as u64), format!("f{i}"));
        symbols.insert_helper(insn.imm, "helper");
    }
    disasm_listing(&code, base, &symbols);
    for i in 0..=code.len() {
        disasm_insn(&code, i);
        listing_line(&code, i, base, &symbols);
    }
    if validate(&code, false).is_ok() {
        assert!(
            !plain.contains("<unknown>"),
            "valid code printed as <unknown>:\n{plain}"
        );
    }
});
