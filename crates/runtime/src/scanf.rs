//! The scanf family's entry points in their three ABIs (like the printf
//! family's, `stdio.rs`): full-mode calls pass a va block, `v*` calls a
//! `va_list`, strict-mode calls (`__bpf_strict_scanf`...) registers.

use crate::ctx::Ctx;
use crate::fileio::{host_errno, with_input};
use crate::format::{Args, VaReader};
use crate::input::StrInput;
use crate::runtime::Imp;
use crate::scan::{count, scan};
use crate::stdio::Abi;
use crate::stream::STDIN_HANDLE;
use bpf_vm::{HelperError, Memory};

/// What a call reads: a stream, or a string (`sscanf`).
#[derive(Clone, Copy)]
enum Source {
    Stream(u64),
    Str(u64),
}

/// Runs a scanf-family call whose format is argument `fixed - 1`.
fn run(
    cx: &Ctx,
    mem: &mut Memory,
    a: [u64; 5],
    func: &str,
    fixed: usize,
    abi: Abi,
    source: Source,
) -> Result<u64, HelperError> {
    let check = |x, n| cx.check(func, x, n);
    let fmt = cx.string(func, mem, a[fixed - 1])?.to_vec();
    let mut args = match abi {
        Abi::Strict => Args::Registers {
            values: &a[fixed..],
            next: 0,
        },
        Abi::Block | Abi::List => Args::Va(VaReader::new(
            mem,
            &check,
            func,
            a[fixed],
            matches!(abi, Abi::List),
        )?),
    };
    let (n, error) = match source {
        Source::Str(s) => {
            let text = cx.string(func, mem, s)?.to_vec();
            let mut input = StrInput {
                bytes: &text,
                pos: 0,
            };
            scan(cx, func, mem, &mut input, &fmt, &mut args)?
        }
        Source::Stream(h) => {
            let r = with_input(cx, mem, func, h, |input, mem| {
                scan(cx, func, mem, input, &fmt, &mut args)
            })?;
            match r {
                Some(r) => r?,
                None => (-1, None),
            }
        }
    };
    if let Some(e) = error {
        host_errno(cx, mem, &e)?;
    }
    if let (Abi::List, Args::Va(reader)) = (abi, &args) {
        check(a[fixed], 8)?;
        reader.write_back(mem)?;
    }
    Ok(count(n))
}

/// The scanf family in its three ABIs; strict variants keep the C name in
/// their messages.
pub(crate) const SCANF_FAMILY: &[(&str, Imp)] = &[
    ("scanf", |cx, m, a| {
        run(
            cx,
            m,
            a,
            "scanf",
            1,
            Abi::Block,
            Source::Stream(STDIN_HANDLE),
        )
    }),
    ("fscanf", |cx, m, a| {
        run(cx, m, a, "fscanf", 2, Abi::Block, Source::Stream(a[0]))
    }),
    ("sscanf", |cx, m, a| {
        run(cx, m, a, "sscanf", 2, Abi::Block, Source::Str(a[0]))
    }),
    ("vscanf", |cx, m, a| {
        run(
            cx,
            m,
            a,
            "vscanf",
            1,
            Abi::List,
            Source::Stream(STDIN_HANDLE),
        )
    }),
    ("vfscanf", |cx, m, a| {
        run(cx, m, a, "vfscanf", 2, Abi::List, Source::Stream(a[0]))
    }),
    ("vsscanf", |cx, m, a| {
        run(cx, m, a, "vsscanf", 2, Abi::List, Source::Str(a[0]))
    }),
    ("__bpf_strict_scanf", |cx, m, a| {
        run(
            cx,
            m,
            a,
            "scanf",
            1,
            Abi::Strict,
            Source::Stream(STDIN_HANDLE),
        )
    }),
    ("__bpf_strict_fscanf", |cx, m, a| {
        run(cx, m, a, "fscanf", 2, Abi::Strict, Source::Stream(a[0]))
    }),
    ("__bpf_strict_sscanf", |cx, m, a| {
        run(cx, m, a, "sscanf", 2, Abi::Strict, Source::Str(a[0]))
    }),
];
