//! The kernel's helper ids: `call N` (with `src = 0`) calls the kernel
//! helper with id N of `enum bpf_func_id`. The table (names and
//! prototypes) lives in `bpf-kabi`; this module names them for the VM's
//! messages and disassembly: `bpf_map_lookup_elem#1`.

pub use bpf_kabi::helpers::{
    describe_kernel_helper, kernel_helper_id, kernel_helper_name, MAX_KERNEL_HELPER_ID,
};
