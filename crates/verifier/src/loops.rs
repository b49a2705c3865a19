//! Kernel mode: loops the kernel could not show to end.
use crate::engine::Analyzer;

pub(crate) fn check(_an: &mut Analyzer, _entry: usize) {}
