//! `bpf-kabi`: what the Linux kernel's BPF ABI says, in one place, for
//! every crate that needs it (it depends on nothing):
//!
//! - [`helpers`]: the kernel helpers by id (`enum bpf_func_id`), their
//!   names and, for the modelled ones, their prototypes as the kernel's
//!   `struct bpf_func_proto` gives them (argument and return kinds, the
//!   program types that may call them, callbacks);
//! - [`prog`]: program types (`enum bpf_prog_type`), libbpf's section
//!   names for them, what their return values mean;
//! - [`context`]: the context structures (`struct xdp_md`, `struct
//!   __sk_buff`, ...) field by field, and which accesses each program
//!   type's `*_is_valid_access` allows;
//! - [`maps`]: map types (`enum bpf_map_type`), map definitions as
//!   objects declare them, and which helpers a map type admits.
//!
//! The verifier checks programs against these facts; the kernel world
//! (`bpf-kernel`) emulates them; the VM names helpers with them.

pub mod context;
pub mod helpers;
pub mod maps;
pub mod prog;

pub use context::{CtxField, CtxLayout};
pub use helpers::{Arg, Callback, CallbackArg, Helper, HelperProto, Ret};
pub use maps::{MapDef, MapTypeId};
pub use prog::ProgType;
