//! Byte input: what `getchar`, `fgets`, `scanf` and `fread` read from.
//!
//! [`Input`] is the one interface the readers use (peek at the next byte,
//! take it, push one back as `ungetc` does); standard input
//! ([`InputSource`]), open files and `sscanf`'s string implement it.
//! Standard input is fed by the host: bytes it pushes (a transcript's
//! `//<` section), then a reader it sets (a `--stdin FILE`, the REPL's own
//! standard input), then end of file. What a program has read stays read:
//! like output, input is outside the VM and is not rolled back.

use std::collections::VecDeque;
use std::io::{self, Read};

/// Bytes asked of a reader at a time.
const CHUNK: usize = 4096;

/// A byte stream with `ungetc`'s push-back.
pub(crate) trait Input {
    /// The next byte without taking it; `None` at end of file.
    fn peek(&mut self) -> io::Result<Option<u8>>;
    /// Takes the byte `peek` returned.
    fn bump(&mut self);
    /// Pushes a byte back in front (`ungetc`).
    fn unget(&mut self, b: u8);

    /// True if a byte (or the end) can be had without waiting for more input.
    fn ready(&self) -> bool {
        true
    }

    /// Takes and returns the next byte.
    fn next_byte(&mut self) -> io::Result<Option<u8>> {
        let b = self.peek()?;
        if b.is_some() {
            self.bump();
        }
        Ok(b)
    }
}

/// The program's standard input.
pub struct InputSource {
    /// Bytes waiting to be read (pushed back bytes at the front).
    pending: VecDeque<u8>,
    /// Where more bytes come from once `pending` is empty.
    reader: Option<Box<dyn Read>>,
    /// The reader is exhausted (or there never was one).
    pub(crate) eof: bool,
    /// `feof(stdin)`: a read hit the end.
    pub(crate) eof_seen: bool,
    /// `ferror(stdin)`: the reader failed.
    pub(crate) error: bool,
    /// Something was pushed or set, so an empty read is not a surprise.
    pub(crate) fed: bool,
}

impl std::fmt::Debug for InputSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InputSource")
            .field("pending", &self.pending.len())
            .field("reader", &self.reader.is_some())
            .finish()
    }
}

impl Default for InputSource {
    fn default() -> Self {
        InputSource::empty()
    }
}

impl InputSource {
    /// No input: every read is end of file.
    pub fn empty() -> InputSource {
        InputSource {
            pending: VecDeque::new(),
            reader: None,
            eof: true,
            eof_seen: false,
            error: false,
            fed: false,
        }
    }

    /// These bytes, then end of file.
    pub fn bytes(data: impl Into<Vec<u8>>) -> InputSource {
        let mut s = InputSource::empty();
        s.push(&data.into());
        s
    }

    /// Whatever `reader` gives (a file, the host's standard input), read
    /// as the program asks for it.
    pub fn reader(reader: impl Read + 'static) -> InputSource {
        InputSource {
            reader: Some(Box::new(reader)),
            eof: false,
            fed: true,
            ..InputSource::empty()
        }
    }

    /// Appends bytes after everything not yet read (before a reader's).
    pub fn push(&mut self, data: &[u8]) {
        self.pending.extend(data);
        self.fed = true;
        // New input clears an earlier end of file, as a terminal's would.
        self.eof_seen = false;
    }

    /// Bytes pushed and not yet read.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Reads more from the reader; false when none came.
    fn fill(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        let Some(r) = self.reader.as_mut() else {
            self.eof = true;
            return Ok(false);
        };
        let mut buf = [0u8; CHUNK];
        loop {
            match r.read(&mut buf) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.pending.extend(&buf[..n]);
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.error = true;
                    return Err(e);
                }
            }
        }
    }
}

impl Input for InputSource {
    fn peek(&mut self) -> io::Result<Option<u8>> {
        if self.pending.is_empty() && !self.fill()? {
            self.eof_seen = true;
            return Ok(None);
        }
        Ok(self.pending.front().copied())
    }

    fn bump(&mut self) {
        self.pending.pop_front();
    }

    fn unget(&mut self, b: u8) {
        self.pending.push_front(b);
        self.eof_seen = false;
    }

    fn ready(&self) -> bool {
        !self.pending.is_empty() || self.eof
    }
}

/// `sscanf`'s input: a string in host memory.
pub(crate) struct StrInput<'a> {
    pub(crate) bytes: &'a [u8],
    pub(crate) pos: usize,
}

impl Input for StrInput<'_> {
    fn peek(&mut self) -> io::Result<Option<u8>> {
        Ok(self.bytes.get(self.pos).copied())
    }

    fn bump(&mut self) {
        self.pos += 1;
    }

    fn unget(&mut self, _: u8) {
        self.pos = self.pos.saturating_sub(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pushed_bytes_come_before_the_reader_and_ungetc_goes_first() {
        let mut s = InputSource::reader(&b"cd"[..]);
        s.push(b"ab");
        assert_eq!(s.next_byte().unwrap(), Some(b'a'));
        s.unget(b'z');
        let all: Vec<u8> = std::iter::from_fn(|| s.next_byte().unwrap()).collect();
        assert_eq!(all, b"zbcd");
        assert!(s.eof_seen);
        s.push(b"e");
        assert!(!s.eof_seen);
        assert_eq!(s.next_byte().unwrap(), Some(b'e'));
    }
}
