//! POSIX isolators.

mod rlimits;

pub use rlimits::Rlimits;
