//! placeholder

pub mod input;
