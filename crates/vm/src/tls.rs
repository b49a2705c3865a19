//! Thread-local storage: the template and the threads' blocks
//! (docs/abi.md, "Thread-local storage").
//!
//! Every thread has a block in the thread-local region (region 7). Thread
//! *k*'s block starts at `RegionKind::Tls.base() + k * block_size`; the
//! main thread is *k* = 0. That address is the thread's **thread pointer**
//! ([`Memory::thread_pointer`] while it runs), and it never moves: the
//! template may grow (a REPL session links more thread-local variables)
//! while threads are alive, up to `block_size` bytes. A block starts with a
//! 16-byte thread control block (its own address, then *k*), followed by the
//! thread-local variables at the offsets the linker gave them; the linker
//! resolves every access to such an offset ([`TCB_SIZE`] and up), and the
//! code adds the thread pointer.
//!
//! The linker keeps the [`TlsTemplate`] (the initial bytes of a block) and
//! extends every existing block when it links more thread-local variables;
//! thread support makes a new thread's block with [`TlsTemplate::init_block`]
//! and sets the thread pointer when it switches threads.

use crate::memory::{MemError, Memory, RegionKind};

/// Bytes at the start of every block before the first variable: the
/// block's own address (u64), then its thread's index (u64).
pub const TCB_SIZE: u64 = 16;

/// The default distance between consecutive threads' blocks, which is
/// also the most thread-local storage one thread may have.
pub const DEFAULT_BLOCK_SIZE: u64 = 256 << 10;

/// Block sizes are multiples of this (so thread-local variables aligned up
/// to a page keep their alignment in every thread), and no thread-local
/// section may ask for more alignment.
pub const MAX_TLS_ALIGN: u64 = 4096;

/// The main thread's thread pointer: the thread-local region's base.
pub const fn main_thread_pointer() -> u64 {
    RegionKind::Tls.base()
}

/// The initial contents of every thread's TLS block, and where the blocks
/// are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsTemplate {
    /// Thread control block (zeros here; each block gets its own), then
    /// `.tdata` contents and `.tbss` zeros at their offsets. Empty until
    /// the first thread-local variable is linked.
    image: Vec<u8>,
    block_size: u64,
}

impl Default for TlsTemplate {
    fn default() -> Self {
        TlsTemplate::new(DEFAULT_BLOCK_SIZE)
    }
}

impl TlsTemplate {
    /// An empty template whose blocks are `block_size` bytes apart
    /// (rounded up to a multiple of [`MAX_TLS_ALIGN`]).
    pub fn new(block_size: u64) -> TlsTemplate {
        TlsTemplate {
            image: Vec::new(),
            block_size: block_size.max(1).next_multiple_of(MAX_TLS_ALIGN),
        }
    }

    /// Bytes of one block in use (0 until a thread-local variable exists).
    pub fn size(&self) -> u64 {
        self.image.len() as u64
    }

    /// The template's bytes: what a new thread's block starts with.
    pub fn image(&self) -> &[u8] {
        &self.image
    }

    /// Distance between consecutive blocks: the most thread-local storage
    /// one thread may have.
    pub fn block_size(&self) -> u64 {
        self.block_size
    }

    /// Changes the block size. Refused once a thread other than the main
    /// one has a block (blocks never move), or below the template's size.
    pub fn set_block_size(&mut self, mem: &Memory, bytes: u64) -> Result<(), String> {
        let rounded = bytes.max(1).next_multiple_of(MAX_TLS_ALIGN);
        if self.blocks(mem) > 1 {
            return Err(
                "the TLS block size cannot change while threads other than the main one have \
                 blocks"
                    .to_string(),
            );
        }
        if rounded < self.size() {
            return Err(format!(
                "a TLS block of {rounded} bytes cannot hold the {} bytes of thread-local \
                 variables already linked",
                self.size()
            ));
        }
        self.block_size = rounded;
        Ok(())
    }

    /// The thread pointer of thread `slot` (0: the main thread).
    pub fn thread_pointer(&self, slot: usize) -> u64 {
        main_thread_pointer().saturating_add((slot as u64).saturating_mul(self.block_size))
    }

    /// How many threads' blocks exist in `mem` (slots `0..n`).
    pub fn blocks(&self, mem: &Memory) -> usize {
        (mem.region_len(RegionKind::Tls) as u64).div_ceil(self.block_size) as usize
    }

    /// Makes (or remakes) thread `slot`'s block from the template: grows the
    /// region as needed, copies the template and writes the thread control
    /// block. Returns the thread pointer. The main thread's block is made
    /// first if it does not exist yet.
    pub fn init_block(&self, mem: &mut Memory, slot: usize) -> Result<u64, MemError> {
        if slot > 0 && self.blocks(mem) == 0 {
            self.init_block(mem, 0)?;
        }
        let tp = self.thread_pointer(slot);
        let end = (tp - main_thread_pointer()).saturating_add(self.size().max(TCB_SIZE));
        grow_to(mem, end)?;
        mem.write_initial(tp, &self.image)?;
        let mut tcb = [0u8; TCB_SIZE as usize];
        tcb[..8].copy_from_slice(&tp.to_le_bytes());
        tcb[8..].copy_from_slice(&(slot as u64).to_le_bytes());
        mem.write_initial(tp, &tcb)?;
        Ok(tp)
    }

    /// Appends `tail` to the template and to every existing block (making
    /// the main thread's block if none exists). On error the template is as
    /// it was; the region may have grown (the caller truncates it).
    pub fn extend(&mut self, mem: &mut Memory, tail: &[u8]) -> Result<(), MemError> {
        let old = self.image.len();
        let blocks = self.blocks(mem);
        self.image.extend_from_slice(tail);
        let result = if blocks == 0 {
            self.init_block(mem, 0).map(|_| ())
        } else {
            (0..blocks).try_for_each(|k| {
                let at = self.thread_pointer(k) + old as u64;
                grow_to(mem, at - main_thread_pointer() + tail.len() as u64)?;
                mem.write_initial(at, tail)
            })
        };
        if result.is_err() {
            self.image.truncate(old);
        }
        result
    }

    /// Rewrites `bytes` at `offset` of the template and of every block (a
    /// reference in `.tdata` to a redefined name). Outside the template,
    /// nothing is written.
    pub fn write(&mut self, mem: &mut Memory, offset: u64, bytes: &[u8]) -> Result<(), MemError> {
        let end = offset.saturating_add(bytes.len() as u64);
        if end > self.size() {
            return Ok(());
        }
        self.image[offset as usize..end as usize].copy_from_slice(bytes);
        for k in 0..self.blocks(mem) {
            mem.write_initial(self.thread_pointer(k) + offset, bytes)?;
        }
        Ok(())
    }

    /// Shrinks the template back to `size` bytes (undo of a link). While
    /// only the main thread has a block, the region goes back to
    /// `region_len` bytes; other threads' blocks keep their bytes (past the
    /// template they are never read, and growth rewrites them).
    pub fn truncate(&mut self, mem: &mut Memory, size: u64, region_len: usize) {
        self.image.truncate(size as usize);
        if self.blocks(mem) <= 1 {
            mem.truncate(RegionKind::Tls, region_len);
        }
    }
}

/// Grows the thread-local region to at least `len` bytes.
fn grow_to(mem: &mut Memory, len: u64) -> Result<(), MemError> {
    let have = mem.region_len(RegionKind::Tls) as u64;
    if len > have {
        let more = usize::try_from(len - have).unwrap_or(usize::MAX);
        mem.alloc(RegionKind::Tls, more, 1)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(bytes: &[u8]) -> (TlsTemplate, Memory) {
        let mut mem = Memory::new();
        let mut t = TlsTemplate::new(8192);
        let mut image = vec![0; TCB_SIZE as usize];
        image.extend_from_slice(bytes);
        t.extend(&mut mem, &image).unwrap();
        (t, mem)
    }

    #[test]
    fn the_main_block_is_made_with_the_first_variables() {
        let (t, mem) = template(&[1, 2, 3, 4]);
        let tp = main_thread_pointer();
        assert_eq!(t.blocks(&mem), 1);
        assert_eq!(mem.load(tp, 8).unwrap(), tp, "self pointer");
        assert_eq!(mem.load(tp + 8, 8).unwrap(), 0, "thread index");
        assert_eq!(mem.load(tp + 16, 4).unwrap(), 0x0403_0201);
        assert_eq!(mem.thread_pointer(), tp);
    }

    #[test]
    fn new_blocks_copy_the_template_and_growth_reaches_every_block() {
        let (mut t, mut mem) = template(&[7; 8]);
        // The main thread changed its copy; a new thread starts from the template.
        mem.write_initial(main_thread_pointer() + 16, &[9]).unwrap();
        let tp2 = t.init_block(&mut mem, 2).unwrap();
        assert_eq!(tp2, main_thread_pointer() + 2 * 8192);
        assert_eq!(t.blocks(&mem), 3);
        assert_eq!(mem.load(tp2 + 16, 1).unwrap(), 7);
        assert_eq!(mem.load(tp2 + 8, 8).unwrap(), 2);
        assert_eq!(mem.load(main_thread_pointer() + 16, 1).unwrap(), 9);
        // More variables: every block gets their initial values.
        t.extend(&mut mem, &[5, 5]).unwrap();
        for k in 0..3 {
            assert_eq!(
                mem.load(t.thread_pointer(k) + 24, 2).unwrap(),
                0x0505,
                "block {k}"
            );
        }
        assert!(
            t.set_block_size(&mem, 1 << 20).is_err(),
            "blocks never move"
        );
    }

    #[test]
    fn truncation_gives_back_the_main_block_only() {
        let (mut t, mut mem) = template(&[1; 4]);
        let len = mem.region_len(RegionKind::Tls);
        t.extend(&mut mem, &[2; 100]).unwrap();
        t.truncate(&mut mem, 20, len);
        assert_eq!((t.size(), mem.region_len(RegionKind::Tls)), (20, len));
        t.truncate(&mut mem, 0, 0);
        assert_eq!(t.blocks(&mem), 0);
    }

    #[test]
    fn the_block_size_bounds_the_thread_index() {
        let (t, mut mem) = template(&[]);
        let too_far = (crate::memory::MAX_REGION_SIZE as u64 / t.block_size()) as usize;
        assert!(t.init_block(&mut mem, too_far).is_err());
        assert_eq!(t.blocks(&mem), 1, "a refused block leaves the region alone");
    }
}
