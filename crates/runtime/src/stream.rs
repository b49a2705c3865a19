//! `FILE *` values and what they name: the standard streams and files a
//! program opened in the granted directory.
//!
//! A `FILE *` is an opaque handle, never a VM address (dereferencing one
//! faults): `stdout` 1, `stderr` 2, `stdin` 3 (the header's macros), and
//! `0x100 + n` for the n-th `fopen` of the session. Handles are never
//! reused, so a stream used after `fclose` is reported as such.

use crate::input::Input;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};

/// The handle value of `stdout` in `<stdio.h>`.
pub const STDOUT_HANDLE: u64 = 1;
/// The handle value of `stderr` in `<stdio.h>`.
pub const STDERR_HANDLE: u64 = 2;
/// The handle value of `stdin` in `<stdio.h>`.
pub const STDIN_HANDLE: u64 = 3;
/// The first handle `fopen` returns.
const FIRST_FILE: u64 = 0x100;
/// Default cap on files open at once (`Runtime::with_max_open_files`).
pub const DEFAULT_MAX_OPEN_FILES: usize = 64;
/// Default cap on bytes written to files per session
/// (`Runtime::with_file_write_limit`): 1 GiB.
pub const DEFAULT_FILE_WRITE_LIMIT: u64 = 1 << 30;

/// Bytes read from a file at a time.
const CHUNK: usize = 8192;

/// A file opened by `fopen`.
pub(crate) struct FileStream {
    file: File,
    pub(crate) readable: bool,
    pub(crate) writable: bool,
    /// Bytes read ahead and `rpos`, the next one the program gets.
    rbuf: Vec<u8>,
    rpos: usize,
    /// `ungetc`'s bytes, the last pushed first out.
    pushback: Vec<u8>,
    pub(crate) eof: bool,
    pub(crate) error: bool,
}

impl FileStream {
    pub(crate) fn new(file: File, readable: bool, writable: bool) -> FileStream {
        FileStream {
            file,
            readable,
            writable,
            rbuf: Vec::new(),
            rpos: 0,
            pushback: Vec::new(),
            eof: false,
            error: false,
        }
    }

    /// Bytes the program has not seen but the file position is past.
    fn unread(&self) -> i64 {
        (self.rbuf.len() - self.rpos) as i64
    }

    /// Gives back the read-ahead, so the file position is the program's.
    fn sync(&mut self) -> io::Result<()> {
        let back = self.unread() - self.pushback.len() as i64;
        self.rbuf.clear();
        self.rpos = 0;
        self.pushback.clear();
        if back != 0 {
            self.file.seek(SeekFrom::Current(-back))?;
        }
        Ok(())
    }

    /// Writes all of `data` at the program's position.
    pub(crate) fn write(&mut self, data: &[u8]) -> io::Result<()> {
        self.sync()?;
        self.file.write_all(data).inspect_err(|_| self.error = true)
    }

    /// `fseek`: moves to `off` from `whence` (0 start, 1 here, 2 end).
    pub(crate) fn seek(&mut self, off: i64, whence: i32) -> io::Result<u64> {
        let here = self.tell()?;
        self.rbuf.clear();
        self.rpos = 0;
        self.pushback.clear();
        let to = match whence {
            0 => SeekFrom::Start(u64::try_from(off).map_err(|_| einval())?),
            1 => SeekFrom::Start(here.checked_add_signed(off).ok_or_else(einval)?),
            2 => SeekFrom::End(off),
            _ => return Err(einval()),
        };
        let pos = self.file.seek(to)?;
        self.eof = false;
        Ok(pos)
    }

    /// `ftell`: the program's position.
    pub(crate) fn tell(&mut self) -> io::Result<u64> {
        let pos = self.file.stream_position()?;
        let back = self.unread() + self.pushback.len() as i64;
        Ok(pos.saturating_add_signed(-back))
    }

    /// Reads up to `buf.len()` bytes; fewer only at end of file or error.
    pub(crate) fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut n = 0;
        while n < buf.len() {
            match self.next_byte()? {
                Some(b) => {
                    buf[n] = b;
                    n += 1;
                }
                None => break,
            }
            // Large reads go straight to the file once the buffers are empty.
            if self.pushback.is_empty() && self.rpos == self.rbuf.len() && buf.len() - n >= CHUNK {
                let got = self.read_direct(&mut buf[n..])?;
                n += got;
                if got == 0 {
                    break;
                }
            }
        }
        Ok(n)
    }

    fn read_direct(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut n = 0;
        while n < buf.len() {
            match self.file.read(&mut buf[n..]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(k) => n += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.error = true;
                    return Err(e);
                }
            }
        }
        Ok(n)
    }
}

fn einval() -> io::Error {
    io::Error::from_raw_os_error(libc::EINVAL)
}

impl Input for FileStream {
    fn peek(&mut self) -> io::Result<Option<u8>> {
        if let Some(b) = self.pushback.last() {
            return Ok(Some(*b));
        }
        if self.rpos == self.rbuf.len() {
            self.rbuf.resize(CHUNK, 0);
            self.rpos = 0;
            let n = loop {
                match self.file.read(&mut self.rbuf) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        self.rbuf.clear();
                        self.error = true;
                        return Err(e);
                    }
                }
            };
            self.rbuf.truncate(n);
            if n == 0 {
                self.eof = true;
                return Ok(None);
            }
        }
        Ok(Some(self.rbuf[self.rpos]))
    }

    fn bump(&mut self) {
        if self.pushback.pop().is_none() {
            self.rpos += 1;
        }
    }

    fn unget(&mut self, b: u8) {
        self.pushback.push(b);
        self.eof = false;
    }
}

/// The files a session has open.
pub(crate) struct Files {
    open: BTreeMap<u64, FileStream>,
    next: u64,
    pub(crate) max_open: usize,
    /// Bytes written to files so far, and the cap.
    pub(crate) written: u64,
    pub(crate) write_limit: u64,
}

impl Default for Files {
    fn default() -> Self {
        Files {
            open: BTreeMap::new(),
            next: FIRST_FILE,
            max_open: DEFAULT_MAX_OPEN_FILES,
            written: 0,
            write_limit: DEFAULT_FILE_WRITE_LIMIT,
        }
    }
}

impl Files {
    /// Adds an opened file; its handle, or `None` at the open-file limit.
    pub(crate) fn add(&mut self, f: FileStream) -> Option<u64> {
        if self.open.len() >= self.max_open {
            return None;
        }
        let h = self.next;
        self.next += 1;
        self.open.insert(h, f);
        Some(h)
    }

    /// Puts a stream under a handle `fopen` issued before (`freopen`).
    pub(crate) fn put_back(&mut self, handle: u64, f: FileStream) {
        self.open.insert(handle, f);
    }

    pub(crate) fn get(&mut self, handle: u64) -> Option<&mut FileStream> {
        self.open.get_mut(&handle)
    }

    pub(crate) fn remove(&mut self, handle: u64) -> Option<FileStream> {
        self.open.remove(&handle)
    }

    /// True if `handle` was returned by `fopen` (open or closed since).
    pub(crate) fn was_issued(&self, handle: u64) -> bool {
        (FIRST_FILE..self.next).contains(&handle)
    }
}
