//! Opening, closing and naming files: `fopen`, `freopen`, `fclose`,
//! `tmpfile`, `tmpnam`, `remove`, `rename`.
//!
//! Names live in the granted directory (`fs.rs`), except those `tmpnam`
//! hands out (`/tmp/bpf-tmp-N`), which name files in memory: a program
//! can make, reopen and remove a temporary file without any directory,
//! and nothing reaches the host's file system.

use crate::ctx::Ctx;
use crate::fileio::{host_errno, target, Target};
use crate::fs::FsError;
use crate::statics;
use crate::stream::{FileStream, STDERR_HANDLE, STDIN_HANDLE, STDOUT_HANDLE};
use crate::vmstr::int_ret;
use bpf_vm::{HelperError, Memory};
use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd};

/// The names `tmpnam` hands out start with this.
const TEMP_PREFIX: &str = "/tmp/bpf-tmp-";

/// The flags `fopen`'s mode means, or `None` for a mode C does not define.
fn open_flags(mode: &[u8]) -> Option<(i32, bool, bool)> {
    let (first, rest) = mode.split_first()?;
    let plus = rest.contains(&b'+');
    let excl = rest.contains(&b'x');
    if rest
        .iter()
        .any(|c| !matches!(c, b'+' | b'b' | b'x' | b'e' | b't'))
    {
        return None;
    }
    let rw = if plus { libc::O_RDWR } else { 0 };
    Some(match first {
        b'r' if !excl => (rw | if plus { 0 } else { libc::O_RDONLY }, true, plus),
        b'w' => {
            let x = if excl { libc::O_EXCL } else { 0 };
            let access = if plus { libc::O_RDWR } else { libc::O_WRONLY };
            (access | libc::O_CREAT | libc::O_TRUNC | x, plus, true)
        }
        b'a' if !excl => {
            let access = if plus { libc::O_RDWR } else { libc::O_WRONLY };
            (access | libc::O_CREAT | libc::O_APPEND, plus, true)
        }
        _ => return None,
    })
}

/// Registers an opened file; its handle, or NULL at the open-file limit.
fn add_file(cx: &Ctx, mem: &mut Memory, func: &str, f: FileStream) -> Result<u64, HelperError> {
    let added = cx.world.borrow_mut().files.add(f);
    match added {
        Some(h) => Ok(h),
        None => {
            let max = cx.world.borrow().files.max_open;
            cx.notice(&format!(
                "{func}: the program has {max} files open, the most it may (close some with \
                 fclose, or raise the limit with Runtime::with_max_open_files)"
            ));
            cx.set_errno(mem, libc::EMFILE)?;
            Ok(0)
        }
    }
}

/// The note for file access without a granted directory.
fn no_grant(func: &str, name: &[u8]) -> String {
    format!(
        "{func}(\"{}\"): no directory is granted to the program, so it cannot use files; \
         start bpf-repl or bpf-jitlink with --fs DIR to let it use the files in DIR",
        String::from_utf8_lossy(name)
    )
}

/// Opens `name` with `mode`: a temporary name in memory, or a name in
/// the granted directory. `None` (and `errno`, and a note for a refusal)
/// when it cannot be opened.
fn open_stream(
    cx: &Ctx,
    mem: &mut Memory,
    func: &str,
    name: &[u8],
    mode: &[u8],
) -> Result<Option<FileStream>, HelperError> {
    let Some((flags, readable, writable)) = open_flags(mode) else {
        cx.set_errno(mem, libc::EINVAL)?;
        return Ok(None);
    };
    let opened = if is_temp_name(name) {
        Some(open_temp(cx, name, flags))
    } else {
        let world = cx.world.borrow();
        world.grant.as_ref().map(|g| g.open(name, flags))
    };
    match opened {
        None => {
            cx.notice(&no_grant(func, name));
            cx.set_errno(mem, libc::EACCES)?;
            Ok(None)
        }
        Some(Err(e)) => {
            if let FsError::Refused { why, .. } = &e {
                cx.notice(&format!(
                    "{func}(\"{}\"): {why}",
                    String::from_utf8_lossy(name)
                ));
            }
            cx.set_errno(mem, e.errno())?;
            Ok(None)
        }
        Some(Ok(file)) => Ok(Some(FileStream::new(file, readable, writable))),
    }
}

/// `FILE *fopen(const char *name, const char *mode)`.
pub(crate) fn fopen(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let name = cx.string("fopen", mem, a[0])?.to_vec();
    let mode = cx.string("fopen", mem, a[1])?.to_vec();
    match open_stream(cx, mem, "fopen", &name, &mode)? {
        Some(f) => add_file(cx, mem, "fopen", f),
        None => Ok(0),
    }
}

/// `FILE *freopen(const char *name, const char *mode, FILE *stream)`:
/// closes `stream` and opens `name` in its place. The standard streams
/// are redirected (`freopen(name, "w", stdout)` sends `printf` there until
/// `fclose(stdout)` ends the redirection); a file keeps its handle. With
/// a NULL name the stream stays as it is.
pub(crate) fn freopen(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let stream = a[2];
    let t = target(cx, "freopen", stream)?;
    if a[0] == 0 {
        return Ok(stream);
    }
    let name = cx.string("freopen", mem, a[0])?.to_vec();
    let mode = cx.string("freopen", mem, a[1])?.to_vec();
    // The old stream is closed first, opening the new one fails or not.
    close(cx, stream, t);
    let Some(f) = open_stream(cx, mem, "freopen", &name, &mode)? else {
        return Ok(0);
    };
    let std = std_index(stream);
    let mut world = cx.world.borrow_mut();
    match (t, std) {
        (Target::File(h), None) => {
            world.files.put_back(h, f);
            Ok(h)
        }
        (_, Some(i)) => match world.files.add(f) {
            Some(h) => {
                world.redirect[i] = Some(h);
                Ok(stream)
            }
            None => Ok(0),
        },
        _ => Ok(0),
    }
}

/// 0, 1, 2 for `stdin`, `stdout`, `stderr`.
fn std_index(handle: u64) -> Option<usize> {
    match handle {
        STDIN_HANDLE => Some(0),
        STDOUT_HANDLE => Some(1),
        STDERR_HANDLE => Some(2),
        _ => None,
    }
}

/// Closes what `stream` names: a file, or a standard stream's redirection
/// (the stream goes back to the session's).
fn close(cx: &Ctx, stream: u64, t: Target) {
    let mut world = cx.world.borrow_mut();
    if let Some(i) = std_index(stream) {
        if let Some(h) = world.redirect[i].take() {
            world.files.remove(h);
        }
    } else if let Target::File(h) = t {
        world.files.remove(h);
    }
}

/// True for a name `tmpnam` hands out.
fn is_temp_name(name: &[u8]) -> bool {
    name.starts_with(TEMP_PREFIX.as_bytes())
}

/// Opens the temporary file `name` in memory with `open(2)` flags.
fn open_temp(cx: &Ctx, name: &[u8], flags: i32) -> Result<File, FsError> {
    let mut world = cx.world.borrow_mut();
    let host = |e: i32| FsError::Host(io::Error::from_raw_os_error(e));
    let exists = world.temps.contains_key(name);
    if exists && flags & libc::O_EXCL != 0 {
        return Err(host(libc::EEXIST));
    }
    if !exists {
        if flags & libc::O_CREAT == 0 {
            return Err(host(libc::ENOENT));
        }
        // SAFETY: memfd_create with a NUL-terminated name; checked below.
        let fd = unsafe { libc::memfd_create(c"tmpnam".as_ptr(), libc::MFD_CLOEXEC) };
        if fd < 0 {
            return Err(FsError::Host(io::Error::last_os_error()));
        }
        // SAFETY: just made, owned by nothing else.
        let file = unsafe { File::from_raw_fd(fd) };
        world.temps.insert(name.to_vec(), file);
    }
    let backing = &world.temps[name];
    // Each open has its own position: reopen the memory file by its
    // /proc/self/fd name (a file descriptor of this process).
    let path = CString::new(format!("/proc/self/fd/{}", backing.as_raw_fd())).unwrap_or_default();
    let keep = libc::O_ACCMODE | libc::O_TRUNC | libc::O_APPEND;
    // SAFETY: a NUL-terminated path; the result is checked.
    let fd = unsafe { libc::open(path.as_ptr(), (flags & keep) | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(FsError::Host(io::Error::last_os_error()));
    }
    // SAFETY: just opened, owned by nothing else.
    Ok(unsafe { File::from_raw_fd(fd) })
}

/// `char *tmpnam(char *s)`: a fresh name for a temporary file in memory,
/// in `s` (at least `L_tmpnam`, 20 bytes) or the runtime's buffer.
pub(crate) fn tmpnam(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let n = {
        let mut world = cx.world.borrow_mut();
        world.temp_names += 1;
        world.temp_names
    };
    let mut name = format!("{TEMP_PREFIX}{n}").into_bytes();
    name.push(0);
    let out = if a[0] == 0 {
        cx.statics(mem)? + statics::TMPNAM
    } else {
        a[0]
    };
    cx.check("tmpnam", out, name.len())?;
    mem.write_bytes(out, &name)?;
    Ok(out)
}

/// `FILE *tmpfile(void)`: a file in memory (no directory needed), removed
/// when closed.
pub(crate) fn tmpfile(cx: &Ctx, mem: &mut Memory, _: [u64; 5]) -> Result<u64, HelperError> {
    // SAFETY: memfd_create with a NUL-terminated name; checked below.
    let fd = unsafe { libc::memfd_create(c"tmpfile".as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        host_errno(cx, mem, &io::Error::last_os_error())?;
        return Ok(0);
    }
    // SAFETY: just made, owned by nothing else.
    let file = unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    add_file(cx, mem, "tmpfile", FileStream::new(file, true, true))
}

/// `int fclose(FILE *f)`. Closing a standard stream ends its
/// redirection (`freopen`), if any; otherwise it does nothing here (the
/// session's streams stay open).
pub(crate) fn fclose(cx: &Ctx, _: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let t = target(cx, "fclose", a[0])?;
    close(cx, a[0], t);
    Ok(0)
}

/// Runs a name operation in the granted directory.
fn in_grant(
    cx: &Ctx,
    mem: &mut Memory,
    func: &str,
    name: &[u8],
    op: impl FnOnce(&crate::fs::Grant) -> Result<(), FsError>,
) -> Result<u64, HelperError> {
    let r = cx.world.borrow().grant.as_ref().map(op);
    match r {
        Some(Ok(())) => Ok(0),
        None => {
            cx.notice(&no_grant(func, name));
            cx.set_errno(mem, libc::EACCES)?;
            Ok(int_ret(-1))
        }
        Some(Err(e)) => {
            if let FsError::Refused { why, .. } = &e {
                cx.notice(&format!(
                    "{func}(\"{}\"): {why}",
                    String::from_utf8_lossy(name)
                ));
            }
            cx.set_errno(mem, e.errno())?;
            Ok(int_ret(-1))
        }
    }
}

/// `int remove(const char *name)`.
pub(crate) fn remove(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let name = cx.string("remove", mem, a[0])?.to_vec();
    if is_temp_name(&name) {
        if cx.world.borrow_mut().temps.remove(&name).is_some() {
            return Ok(0);
        }
        cx.set_errno(mem, libc::ENOENT)?;
        return Ok(int_ret(-1));
    }
    in_grant(cx, mem, "remove", &name, |g| g.remove(&name))
}

/// `int rename(const char *from, const char *to)`.
pub(crate) fn rename(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let from = cx.string("rename", mem, a[0])?.to_vec();
    let to = cx.string("rename", mem, a[1])?.to_vec();
    in_grant(cx, mem, "rename", &from, |g| g.rename(&from, &to))
}
