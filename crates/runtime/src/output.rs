//! Where `printf` and friends write: one shared, ordered byte sink.
//!
//! Every helper writes through the same [`OutputSink`] handle, so program
//! output keeps the order in which the program produced it. The host decides
//! where the bytes go: into a buffer it drains after (or while) each input
//! runs ([`OutputSink::buffer`]), or straight into a writer such as the REPL's
//! own `std::io::stdout()` ([`OutputSink::writer`]), which keeps program
//! output and printed values in one stream, in order, also through a pipe.

use std::cell::RefCell;
use std::fmt;
use std::io::{self, Write};
use std::rc::Rc;

/// Default cap on bytes held by a buffer sink and not yet taken (64 MiB).
pub const DEFAULT_BUFFER_LIMIT: usize = 64 << 20;

enum Target {
    Buffer { bytes: Vec<u8>, limit: usize },
    Writer(Box<dyn Write>),
}

/// A cloneable handle to one output destination; clones write to the same place.
#[derive(Clone)]
pub struct OutputSink {
    target: Rc<RefCell<Target>>,
}

/// Why a write did not happen.
#[derive(Debug)]
pub(crate) enum WriteError {
    /// A buffer sink would hold more than its limit.
    LimitExceeded(usize),
    /// The writer failed (e.g. a closed pipe).
    Io(io::Error),
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriteError::LimitExceeded(limit) => write!(
                f,
                "program output exceeded the buffer limit of {limit} bytes without being shown"
            ),
            WriteError::Io(e) => write!(f, "output error: {e}"),
        }
    }
}

impl OutputSink {
    /// A sink that collects bytes until [`OutputSink::take`] drains them,
    /// holding at most [`DEFAULT_BUFFER_LIMIT`] bytes.
    pub fn buffer() -> OutputSink {
        OutputSink::buffer_with_limit(DEFAULT_BUFFER_LIMIT)
    }

    /// A collecting sink that refuses writes once `limit` bytes are waiting.
    pub fn buffer_with_limit(limit: usize) -> OutputSink {
        OutputSink {
            target: Rc::new(RefCell::new(Target::Buffer {
                bytes: Vec::new(),
                limit,
            })),
        }
    }

    /// A sink that passes every write on to `w` as it happens.
    pub fn writer(w: impl Write + 'static) -> OutputSink {
        OutputSink {
            target: Rc::new(RefCell::new(Target::Writer(Box::new(w)))),
        }
    }

    /// Drains and returns the collected bytes (always empty for a writer sink).
    pub fn take(&self) -> Vec<u8> {
        match &mut *self.target.borrow_mut() {
            Target::Buffer { bytes, .. } => std::mem::take(bytes),
            Target::Writer(_) => Vec::new(),
        }
    }

    /// Flushes a writer sink (a no-op for a buffer).
    pub fn flush(&self) -> io::Result<()> {
        match &mut *self.target.borrow_mut() {
            Target::Buffer { .. } => Ok(()),
            Target::Writer(w) => w.flush(),
        }
    }

    /// Writes the host's own text (a printed value, a message) into the
    /// same stream, after everything the program wrote so far: the way to
    /// keep values and program output in input order in either mode.
    pub fn write_all(&self, data: &[u8]) -> io::Result<()> {
        self.write(data).map_err(|e| match e {
            WriteError::Io(e) => e,
            limit => io::Error::other(limit.to_string()),
        })
    }

    /// True if both handles write to the same destination.
    pub fn same_as(&self, other: &OutputSink) -> bool {
        Rc::ptr_eq(&self.target, &other.target)
    }

    /// Writes all of `data`, or nothing.
    pub(crate) fn write(&self, data: &[u8]) -> Result<(), WriteError> {
        match &mut *self.target.borrow_mut() {
            Target::Buffer { bytes, limit } => {
                if bytes.len().saturating_add(data.len()) > *limit {
                    return Err(WriteError::LimitExceeded(*limit));
                }
                bytes.extend_from_slice(data);
                Ok(())
            }
            Target::Writer(w) => w.write_all(data).map_err(WriteError::Io),
        }
    }
}

impl fmt::Debug for OutputSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.target.borrow() {
            Target::Buffer { bytes, limit } => f
                .debug_struct("OutputSink::Buffer")
                .field("pending", &bytes.len())
                .field("limit", limit)
                .finish(),
            Target::Writer(_) => f.write_str("OutputSink::Writer"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_one_ordered_buffer() {
        let a = OutputSink::buffer();
        let b = a.clone();
        a.write(b"one ").unwrap();
        b.write(b"two").unwrap();
        assert_eq!(a.take(), b"one two");
        assert!(b.take().is_empty());
    }

    #[test]
    fn buffer_limit_refuses_whole_write() {
        let s = OutputSink::buffer_with_limit(4);
        s.write(b"abc").unwrap();
        assert!(matches!(s.write(b"de"), Err(WriteError::LimitExceeded(4))));
        assert_eq!(s.take(), b"abc");
        s.write(b"de").unwrap();
    }

    #[test]
    fn writer_sink_passes_bytes_through() {
        #[derive(Clone, Default)]
        struct Shared(Rc<RefCell<Vec<u8>>>);
        impl Write for Shared {
            fn write(&mut self, b: &[u8]) -> io::Result<usize> {
                self.0.borrow_mut().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let seen = Shared::default();
        let s = OutputSink::writer(seen.clone());
        s.write(b"hi").unwrap();
        assert_eq!(&*seen.0.borrow(), b"hi");
        assert!(s.take().is_empty());
    }
}
