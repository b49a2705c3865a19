//! The runtime's own variables in VM memory: `errno`, the `struct tm` that
//! `localtime`/`gmtime` return, and the text buffers of `strerror`,
//! `asctime`/`ctime` and `tmpnam`. C returns pointers to them, so they must be VM
//! memory; the block is made in the data region the first time a helper
//! needs it (programs that never touch `errno` never see it), at the end
//! of the region as it is then, and it is part of the runtime state a
//! snapshot restores (the VM memory rollback removes the block with it).

use bpf_vm::{HelperError, Memory, RegionKind};

/// `int errno`.
pub(crate) const ERRNO: u64 = 0;
/// `struct tm` of `localtime`/`gmtime` (56 bytes, glibc's x86-64 layout).
pub(crate) const TM: u64 = 8;
/// Time zone names `tm_zone` points at (glibc keeps one string per name).
pub(crate) const ZONES: u64 = 64;
/// Bytes per zone name (NUL included).
pub(crate) const ZONE_LEN: u64 = 16;
/// Zone names kept (the last slot is reused beyond).
pub(crate) const ZONE_SLOTS: u64 = 4;
/// `asctime`/`ctime` text (26 bytes in C; room for years beyond 9999).
pub(crate) const ASCTIME: u64 = 128;
/// `strerror`'s text.
pub(crate) const STRERROR: u64 = 192;
/// Bytes of `strerror`'s buffer.
pub(crate) const STRERROR_LEN: usize = 128;
/// `tmpnam(NULL)`'s name.
pub(crate) const TMPNAM: u64 = 320;
/// Size of the whole block.
const SIZE: usize = 352;

/// Where the block is, once made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Statics {
    base: Option<u64>,
}

impl Statics {
    /// The block's address if it was made.
    pub(crate) fn existing(&self) -> Option<u64> {
        self.base
    }

    /// The block's address; made (zeroed) in the data region on first use.
    pub(crate) fn base(&mut self, mem: &mut Memory) -> Result<u64, HelperError> {
        // Hosts restore the runtime state with the VM memory, so the
        // address stays valid as long as it is recorded here.
        if let Some(b) = self.base {
            return Ok(b);
        }
        let b = mem.alloc(RegionKind::Data, SIZE, 16)?;
        mem.slice_mut(b, SIZE)?.fill(0);
        self.base = Some(b);
        Ok(b)
    }
}
