//! The master daemon: the registry, the DRF allocator, offers, the v1
//! scheduler API and the operator API.

pub mod allocator;
