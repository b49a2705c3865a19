//! The world outside the VM that helpers reach: standard input, the
//! granted directory and the files open in it, and the clock. None of it
//! is part of a runtime snapshot: like program output, what was read or
//! written outside stays done when an input is rolled back.

use crate::fs::Grant;
use crate::input::InputSource;
use crate::stream::Files;
use std::collections::{BTreeMap, HashSet};
use std::fs::File;

/// Where `time`, `clock` and `clock_gettime` get the time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeSource {
    /// The host's clocks and time zone.
    Host,
    /// A fixed start (`epoch` seconds since 1970, UTC) that advances by
    /// `step_ns` nanoseconds at every clock read, in UTC: the same values
    /// on every run, so transcripts stay stable.
    Deterministic { epoch: i64, step_ns: u64 },
}

impl TimeSource {
    /// The deterministic clock bpf-repl's `--deterministic-time` uses:
    /// 2024-01-01 00:00:00 UTC, one microsecond per read.
    pub const DETERMINISTIC: TimeSource = TimeSource::Deterministic {
        epoch: 1_704_067_200,
        step_ns: 1_000,
    };
}

/// See the module documentation.
pub(crate) struct World {
    pub(crate) stdin: InputSource,
    pub(crate) files: Files,
    pub(crate) grant: Option<Grant>,
    pub(crate) time: TimeSource,
    /// Notes already shown (each is shown once).
    pub(crate) noticed: HashSet<String>,
    /// The file handle `freopen` sent stdin, stdout or stderr to.
    pub(crate) redirect: [Option<u64>; 3],
    /// Temporary files in memory by their `tmpnam` name, and the names
    /// handed out so far.
    pub(crate) temps: BTreeMap<Vec<u8>, File>,
    pub(crate) temp_names: u64,
}

impl Default for World {
    fn default() -> Self {
        World {
            stdin: InputSource::empty(),
            files: Files::default(),
            grant: None,
            time: TimeSource::Host,
            noticed: HashSet::new(),
            redirect: [None; 3],
            temps: BTreeMap::new(),
            temp_names: 0,
        }
    }
}
