//! The write log behind [`Memory::begin_epoch`] and [`Memory::rollback`]:
//! for each open epoch, the region lengths when it began and the old bytes
//! of every page it changed that existed before it.

use std::ops::Range;

use super::{
    Access, MemError, MemReason, Memory, RegionKind, GRANULE, GRANULE_SHIFT, OFFSET_MASK,
    PAGE_SHIFT, PAGE_SIZE, REGION_SHIFT, SLOTS, UNTRACKED,
};

/// A point to roll memory back to (see [`Memory::begin_epoch`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Checkpoint {
    epoch: u32,
}

/// One page as it was before an epoch changed it.
#[derive(Debug, Clone)]
struct SavedPage {
    region: usize,
    page: usize,
    /// The page's epoch entry before it was saved.
    old_epoch: u32,
    /// The page's bytes (fewer than a page at the end of a region).
    bytes: Box<[u8]>,
    /// The page's memcheck shadow (empty for unchecked regions).
    shadow: Box<[u8]>,
}

impl SavedPage {
    /// Bytes it holds (counted against the memory limit).
    fn held(&self) -> usize {
        self.bytes.len() + self.shadow.len()
    }
}

/// What one epoch changed.
#[derive(Debug, Clone)]
struct EpochLog {
    epoch: u32,
    /// Region lengths when the epoch began.
    lens: [usize; SLOTS],
    pages: Vec<SavedPage>,
}

/// Every open epoch, oldest first.
#[derive(Debug, Clone, Default)]
pub(super) struct Journal {
    epochs: Vec<EpochLog>,
    /// Bytes of all saved pages.
    bytes: usize,
    /// The number the next epoch gets (epoch 0 means "none open").
    next: u32,
}

impl Journal {
    pub(super) fn bytes(&self) -> usize {
        self.bytes
    }
}

impl Memory {
    /// Opens a new epoch: until it is rolled back, the first write to each
    /// page that exists now saves the page, so [`Memory::rollback`] to the
    /// returned checkpoint restores memory exactly as it is now. Epochs
    /// nest: rolling back to a checkpoint also rolls back every epoch
    /// opened after it.
    pub fn begin_epoch(&mut self) -> Checkpoint {
        if self.journal.next >= UNTRACKED - 1 {
            // Four billion epochs: start numbering again, forgetting the log.
            self.journal = Journal::default();
            for r in &mut self.regions {
                r.pages
                    .iter_mut()
                    .filter(|e| **e != UNTRACKED)
                    .for_each(|e| *e = 0);
            }
        }
        self.journal.next = self.journal.next.max(1);
        let epoch = self.journal.next;
        self.journal.next += 1;
        self.journal.epochs.push(EpochLog {
            epoch,
            lens: self.mark().lens,
            pages: Vec::new(),
        });
        self.epoch = epoch;
        Checkpoint { epoch }
    }

    /// Undoes every write since `checkpoint` was taken: saved pages get
    /// their old bytes back and regions their old lengths. Returns false
    /// when the checkpoint's own log had been dropped to stay within the
    /// memory limit (then only the newer epochs were rolled back). The
    /// stack is not restored.
    pub fn rollback(&mut self, checkpoint: Checkpoint) -> bool {
        let journal = &mut self.journal;
        let Some(start) = journal
            .epochs
            .iter()
            .position(|l| l.epoch >= checkpoint.epoch)
        else {
            return false;
        };
        let complete = journal.epochs[start].epoch == checkpoint.epoch;
        let logs: Vec<EpochLog> = journal.epochs.drain(start..).collect();
        for log in logs.into_iter().rev() {
            for saved in log.pages.into_iter().rev() {
                self.journal.bytes -= saved.held();
                let r = &mut self.regions[saved.region];
                let at = saved.page << PAGE_SHIFT;
                let end = at + saved.bytes.len();
                if r.bytes.len() < end {
                    r.resize(end, 0);
                }
                r.bytes[at..end].copy_from_slice(&saved.bytes);
                if !saved.shadow.is_empty() {
                    let g = at >> GRANULE_SHIFT;
                    r.shadow[g..g + saved.shadow.len()].copy_from_slice(&saved.shadow);
                }
                r.pages[saved.page] = saved.old_epoch;
            }
            for (r, len) in self.regions.iter_mut().zip(log.lens) {
                if r.tracking != UNTRACKED && r.bytes.len() != len {
                    r.bytes.truncate(len);
                    r.resize(len, 0);
                }
            }
        }
        self.epoch = self.journal.epochs.last().map_or(0, |l| l.epoch);
        complete
    }

    /// Forgets the logs of every epoch opened before `checkpoint` (they can
    /// no longer be rolled back to); later epochs stay.
    pub fn forget_before(&mut self, checkpoint: Checkpoint) {
        let keep = self
            .journal
            .epochs
            .iter()
            .position(|l| l.epoch >= checkpoint.epoch)
            .unwrap_or(self.journal.epochs.len());
        for log in self.journal.epochs.drain(..keep) {
            self.journal.bytes -= log.pages.iter().map(SavedPage::held).sum::<usize>();
        }
    }

    /// Whether memory that existed at `checkpoint` differs from what it
    /// was then: a saved page whose bytes changed, or a region shorter than
    /// it was. Growth (new allocations) does not count.
    pub fn changed_since(&self, checkpoint: Checkpoint) -> bool {
        self.changed_since_except(checkpoint, &[])
    }

    /// [`Memory::changed_since`], not counting changes to bytes in
    /// `ignored` (address ranges; a REPL input's own result variable).
    pub fn changed_since_except(&self, checkpoint: Checkpoint, ignored: &[Range<u64>]) -> bool {
        let logs = self
            .journal
            .epochs
            .iter()
            .filter(|l| l.epoch >= checkpoint.epoch);
        for log in logs {
            let shrunk = self
                .regions
                .iter()
                .zip(log.lens)
                .any(|(r, len)| r.tracking != UNTRACKED && r.bytes.len() < len);
            let rewritten = log.pages.iter().any(|saved| {
                let at = saved.page << PAGE_SHIFT;
                let Some(now) = self.regions[saved.region]
                    .bytes
                    .get(at..at + saved.bytes.len())
                else {
                    return true;
                };
                if now == &saved.bytes[..] {
                    return false;
                }
                // (Region slot `k` holds the addresses `k << REGION_SHIFT ..`.)
                let base = ((saved.region as u64) << REGION_SHIFT) + at as u64;
                now.iter()
                    .zip(saved.bytes.iter())
                    .enumerate()
                    .any(|(i, (a, b))| {
                        a != b && !ignored.iter().any(|r| r.contains(&(base + i as u64)))
                    })
            });
            if shrunk || rewritten {
                return true;
            }
        }
        false
    }

    /// The open epoch (0 when none is: then nothing is logged). A store to
    /// page `p` of a region must save the page first when
    /// `page_epochs(kind)[p] < epoch()` (see [`Memory::save_range`]).
    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    /// The page-epoch table of a region: one `u32` per [`PAGE_SIZE`] bytes,
    /// for the page at offset `p << PAGE_SHIFT`. Native code that stores
    /// into VM memory directly must do what [`Memory::barrier`] does: for
    /// each page a store touches, compare the entry with [`Memory::epoch`]
    /// and call [`Memory::save_range`] when it is lower. The table moves
    /// when the region grows (as the bytes do).
    pub fn page_epochs(&self, kind: RegionKind) -> &[u32] {
        &self.regions[kind as usize].pages
    }

    /// The barrier's slow path for native code: saves the pages of
    /// `addr..addr+len` that the open epoch has not saved yet. The range
    /// must be inside a region (it is checked).
    pub fn save_range(&mut self, addr: u64, len: usize) -> Result<(), MemError> {
        let off = (addr & OFFSET_MASK) as usize;
        let idx = (addr >> REGION_SHIFT) as usize;
        let inside = self
            .regions
            .get(idx)
            .is_some_and(|r| off.checked_add(len).is_some_and(|e| e <= r.bytes.len()));
        if !inside {
            return Err(self.refuse(addr, len, Access::Write));
        }
        self.barrier(idx, off, len)
            .map_err(|e| MemError { addr, ..e })
    }

    /// Saves the pages of `off..off+len` in region `idx` whose epoch entry
    /// is below the open epoch. A write that only touches bytes the epoch
    /// itself added (past the region's length when it began) saves nothing.
    #[cold]
    #[inline(never)]
    pub(super) fn save_pages(
        &mut self,
        idx: usize,
        off: usize,
        len: usize,
    ) -> Result<(), MemError> {
        let epoch = self.epoch;
        let Some(fresh_from) = self.journal.epochs.last().map(|l| l.lens[idx]) else {
            return Ok(());
        };
        let last = (off + len.max(1) - 1) >> PAGE_SHIFT;
        for page in off >> PAGE_SHIFT..=last {
            let r = &self.regions[idx];
            if r.pages.get(page).is_none_or(|&e| e >= epoch) {
                continue;
            }
            let at = page << PAGE_SHIFT;
            let touched_from = off.max(at);
            if touched_from >= fresh_from {
                continue; // only bytes this epoch added: rollback truncates them
            }
            let end = (at + PAGE_SIZE).min(r.bytes.len());
            let shadow_len = if r.checked {
                (end - at).div_ceil(GRANULE)
            } else {
                0
            };
            self.make_room(end - at + shadow_len, idx, off, len)?;
            let r = &mut self.regions[idx];
            let bytes: Box<[u8]> = r.bytes[at..end].into();
            let shadow: Box<[u8]> = match r.checked {
                true => r.shadow[at >> GRANULE_SHIFT..end.div_ceil(GRANULE)].into(),
                false => Box::default(),
            };
            let old_epoch = std::mem::replace(&mut r.pages[page], epoch);
            self.journal.bytes += bytes.len() + shadow.len();
            let log = self.journal.epochs.last_mut().expect("an epoch is open");
            log.pages.push(SavedPage {
                region: idx,
                page,
                old_epoch,
                bytes,
                shadow,
            });
        }
        Ok(())
    }

    /// Makes room for `bytes` more in the journal under the limit, dropping
    /// the oldest epochs' logs (never the open one's) if needed.
    fn make_room(
        &mut self,
        bytes: usize,
        idx: usize,
        off: usize,
        len: usize,
    ) -> Result<(), MemError> {
        while self.used().saturating_add(bytes) > self.limit {
            if self.journal.epochs.len() <= 1 {
                let addr = ((idx as u64) << REGION_SHIFT) + off as u64;
                return Err(MemError {
                    addr,
                    len,
                    access: Access::Write,
                    reason: MemReason::Limit(self.limit),
                });
            }
            let oldest = self.journal.epochs.remove(0);
            self.journal.bytes -= oldest.pages.iter().map(SavedPage::held).sum::<usize>();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(m: &mut Memory, size: usize) -> u64 {
        m.alloc(RegionKind::Data, size, 8).unwrap()
    }

    #[test]
    fn rollback_restores_writes_and_lengths() {
        let mut m = Memory::new();
        let a = data(&mut m, 3 * PAGE_SIZE);
        m.store(a, 8, 1).unwrap();
        let cp = m.begin_epoch();
        m.store(a, 8, 2).unwrap();
        m.store(a + 2 * PAGE_SIZE as u64, 4, 7).unwrap();
        let b = data(&mut m, 16);
        m.store(b, 8, 9).unwrap();
        assert!(m.changed_since(cp));
        assert!(m.rollback(cp));
        assert_eq!(m.load(a, 8).unwrap(), 1);
        assert_eq!(m.load(a + 2 * PAGE_SIZE as u64, 4).unwrap(), 0);
        assert!(m.load(b, 8).is_err(), "the allocation is gone");
        assert_eq!(m.epoch(), 0);
    }

    #[test]
    fn only_changed_pages_are_saved() {
        let mut m = Memory::new();
        let a = data(&mut m, 1 << 24);
        m.begin_epoch();
        for i in 0..100u64 {
            m.store(a + 8 * i, 8, i).unwrap();
        }
        m.write_bytes(a + 5 * PAGE_SIZE as u64 - 2, &[1, 2, 3, 4])
            .unwrap();
        assert_eq!(m.journal.bytes(), 3 * PAGE_SIZE);
    }

    #[test]
    fn writes_to_new_bytes_save_nothing() {
        let mut m = Memory::new();
        let a = data(&mut m, 100);
        m.store(a, 8, 5).unwrap();
        let cp = m.begin_epoch();
        let b = data(&mut m, 8); // shares a page with `a`
        m.store(b, 8, 6).unwrap();
        assert_eq!(m.journal.bytes(), 0);
        assert!(!m.changed_since(cp));
        m.store(a, 8, 5).unwrap(); // same value: saved, but not a change
        assert!(!m.changed_since(cp));
        m.store(a, 8, 4).unwrap();
        assert!(m.changed_since(cp));
        m.rollback(cp);
        assert_eq!(m.load(a, 8).unwrap(), 5);
        assert!(m.load(b, 8).is_err());
    }

    #[test]
    fn nested_epochs_roll_back_in_order() {
        let mut m = Memory::new();
        let a = data(&mut m, 8);
        let one = m.begin_epoch();
        m.store(a, 8, 1).unwrap();
        let two = m.begin_epoch();
        m.store(a, 8, 2).unwrap();
        let three = m.begin_epoch();
        m.store(a, 8, 3).unwrap();
        assert!(m.rollback(three));
        assert_eq!(m.load(a, 8).unwrap(), 2);
        assert_eq!(m.epoch(), 2);
        // Writes now belong to epoch two again.
        m.store(a, 8, 22).unwrap();
        assert!(m.rollback(two));
        assert_eq!(m.load(a, 8).unwrap(), 1);
        assert!(m.rollback(one));
        assert_eq!(m.load(a, 8).unwrap(), 0);
    }

    #[test]
    fn truncation_inside_an_epoch_is_undone() {
        let mut m = Memory::new();
        let a = data(&mut m, 2 * PAGE_SIZE);
        m.store(a + PAGE_SIZE as u64, 8, 77).unwrap();
        let cp = m.begin_epoch();
        m.truncate(RegionKind::Data, 8);
        assert!(m.changed_since(cp));
        m.rollback(cp);
        assert_eq!(m.load(a + PAGE_SIZE as u64, 8).unwrap(), 77);
    }

    #[test]
    fn the_stack_is_not_logged() {
        let mut m = Memory::new();
        m.set_stack_size(2 * PAGE_SIZE);
        m.begin_epoch();
        m.store(RegionKind::Stack.base(), 8, 1).unwrap();
        assert_eq!(m.journal.bytes(), 0);
    }

    #[test]
    fn the_limit_is_checked_before_growing_and_saving() {
        let mut m = Memory::new();
        m.set_limit(3 * PAGE_SIZE);
        let a = data(&mut m, 2 * PAGE_SIZE);
        let e = m.alloc(RegionKind::Heap, 2 * PAGE_SIZE, 8).unwrap_err();
        assert_eq!(e.reason, MemReason::Limit(3 * PAGE_SIZE));
        assert!(e.to_string().contains("--memory-limit"), "{e}");
        m.begin_epoch();
        m.store(a, 8, 1).unwrap(); // one page saved: at the limit
        let e = m.store(a + PAGE_SIZE as u64, 8, 1).unwrap_err();
        assert_eq!(e.reason, MemReason::Limit(3 * PAGE_SIZE));
        assert_eq!(e.addr, a + PAGE_SIZE as u64);
        // An older epoch's log gives way to the open one.
        let mut m = Memory::new();
        m.set_limit(3 * PAGE_SIZE);
        let a = data(&mut m, 2 * PAGE_SIZE);
        let old = m.begin_epoch();
        m.store(a, 8, 1).unwrap();
        m.begin_epoch();
        m.store(a + PAGE_SIZE as u64, 8, 1).unwrap();
        assert!(!m.rollback(old), "the oldest log was dropped");
    }

    #[test]
    fn native_code_sees_the_barrier_tables() {
        let mut m = Memory::new();
        let a = data(&mut m, PAGE_SIZE + 1);
        assert_eq!(m.page_epochs(RegionKind::Data), &[0, 0]);
        m.begin_epoch();
        assert!(m.page_epochs(RegionKind::Data)[1] < m.epoch());
        m.save_range(a + PAGE_SIZE as u64, 1).unwrap();
        assert_eq!(m.page_epochs(RegionKind::Data)[1], m.epoch());
        assert!(m.save_range(a + 2 * PAGE_SIZE as u64, 1).is_err());
    }
}
