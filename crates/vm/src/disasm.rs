//! Disassembly in the syntax of `llvm-objdump -d`.
