//! Link errors. Each names the object and, where there is one, the section
//! and offset or the symbol, and says what to do when that is not obvious.

use bpf_vm::InvalidInsn;
use std::fmt;

/// Why a link failed. A failed link leaves the session as it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkError {
    /// The file is not a well-formed ELF object.
    Malformed { object: String, reason: String },
    /// The file is ELF, but not a little-endian BPF relocatable object.
    WrongTarget { object: String, found: String },
    /// A relocation cannot be read or applied.
    Relocation {
        object: String,
        section: String,
        offset: u64,
        reason: String,
    },
    /// Symbols referenced but defined nowhere (session, batch, or helpers).
    Unresolved { names: Vec<String> },
    /// Two strong definitions of one symbol.
    Duplicate {
        name: String,
        first: String,
        second: String,
    },
    /// A tentative definition larger than the existing definition it
    /// would merge with (in a session that does not allow redefinition).
    CommonTooLarge {
        name: String,
        size: u64,
        existing_size: u64,
        existing: String,
        object: String,
    },
    /// Code that the VM would not run.
    InvalidCode {
        object: String,
        section: String,
        function: Option<String>,
        error: InvalidInsn,
    },
    /// The VM address space is full.
    OutOfMemory { object: String, reason: String },
    /// A verification pass rejected the code.
    Verify { object: String, message: String },
    /// A variadic function is called or defined under two calling
    /// conventions: bpf-cc's full ABI and plain BPF registers (docs/abi.md).
    AbiMismatch {
        name: String,
        full: String,
        plain: String,
    },
    /// A function needs more stack than a VM call frame has.
    StackTooLarge {
        object: String,
        function: String,
        need: u64,
        frame_size: usize,
    },
    /// The object uses something bpf-repl does not support, named exactly
    /// (a kernel helper, a kfunc, a CO-RE relocation...).
    Unsupported {
        object: String,
        /// Where: `.text+0x28 in function `f``, or a section or symbol.
        place: String,
        feature: String,
    },
}

impl fmt::Display for LinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkError::Malformed { object, reason } => {
                write!(f, "{object}: malformed object: {reason}")
            }
            LinkError::WrongTarget { object, found } => write!(
                f,
                "{object}: not a little-endian BPF relocatable object ({found}); \
                 compile with `clang -target bpf -c`"
            ),
            LinkError::Relocation {
                object,
                section,
                offset,
                reason,
            } => write!(f, "{object}: relocation at {section}+{offset:#x}: {reason}"),
            LinkError::Unresolved { names } => {
                write!(f, "symbols not found: [{}]", names.join(", "))
            }
            LinkError::CommonTooLarge {
                name,
                size,
                existing_size,
                existing,
                object,
            } => write!(
                f,
                "{object}: tentative definition of `{name}` ({size} bytes) is larger than its \
                 definition in {existing} ({existing_size} bytes); declare it `extern` or give \
                 both the same type"
            ),
            LinkError::Duplicate {
                name,
                first,
                second,
            } => write!(
                f,
                "duplicate definition of symbol `{name}`: in {first} and in {second}"
            ),
            LinkError::InvalidCode {
                object,
                section,
                function,
                error,
            } => {
                write!(f, "{object}: {section}")?;
                if let Some(func) = function {
                    write!(f, " in function `{func}`")?;
                }
                write!(f, ": {error}")
            }
            LinkError::OutOfMemory { object, reason } => {
                write!(f, "{object}: cannot place sections: {reason}")
            }
            LinkError::Verify { object, message } => {
                write!(f, "{object}: rejected by the verifier: {message}")
            }
            LinkError::AbiMismatch { name, full, plain } => write!(
                f,
                "variadic function {name} is used with two calling conventions: {full} was \
                 built by bpf-cc (arguments in a va block) and {plain} by plain clang \
                 (arguments in registers); build both with bpf-cc, or both with \
                 --strict-bpf / the flags of bpf-jitlink --print-cflags"
            ),
            LinkError::Unsupported {
                object,
                place,
                feature,
            } => write!(f, "{object}: {place}: unsupported: {feature}"),
            LinkError::StackTooLarge {
                object,
                function,
                need,
                frame_size,
            } => write!(
                f,
                "{object}: {function} uses {need} bytes of stack, more than the VM's \
                 {frame_size}-byte call frames; raise the frame size to at least {need} \
                 (--stack-size {need})"
            ),
        }
    }
}

impl std::error::Error for LinkError {}
